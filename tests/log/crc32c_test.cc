#include "log/crc32c.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

// RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32c, MatchesRfc3720Vectors) {
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  const std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string_view()), 0u);
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  const std::string data = testing::payload(7, 3, 1000);
  const uint32_t whole = crc32c(data);
  for (size_t split = 0; split <= data.size(); split += 37) {
    const uint32_t first = crc32c(data.data(), split);
    EXPECT_EQ(crc32c_extend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Crc32c, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  if (!detail::crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  const std::string data = testing::payload(1, 1, 600);
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t length = 0; offset + length <= 520; ++length) {
      const char* p = data.data() + offset;
      ASSERT_EQ(detail::crc32c_extend_hardware(0x1234, p, length),
                detail::crc32c_extend_portable(0x1234, p, length))
          << offset << " " << length;
    }
  }
}

TEST(Crc32c, PortableMatchesVectors) {
  EXPECT_EQ(detail::crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(detail::crc32c_extend_portable(0, zeros.data(), zeros.size()), 0x8A9136AAu);
}

}  // namespace
}  // namespace dengine::log
