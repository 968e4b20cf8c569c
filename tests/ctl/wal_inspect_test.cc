// dengine-ctl wal inspect on a WAL written by the segmented WAL itself: what it lists, where it
// says damage sits, and that it never changes a byte.

#include "ctl/wal_inspect.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "log/posix_file_system.h"
#include "log/segmented_wal.h"
#include "tests/ctl/ctl_test_util.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

constexpr int kEntries = 60;
constexpr HardState kHardState{.term = 3, .vote = 2, .commit = 50};
// Where the first entry's data starts in the first segment: the 64-byte segment header, the
// 40-byte hard state record every segment starts with, then the entry record's 16-byte header
// and its 17-byte entry header (log/segment.h, log/record.h).
constexpr uint64_t kFirstEntryRecord = 64 + 40;
constexpr uint64_t kFirstEntryData = kFirstEntryRecord + 16 + 17;

class WalInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    // Small segments: the log spans several, all but the last sealed.
    Result<log::SegmentedWal::Opened> opened = log::SegmentedWal::open(
        std::make_shared<log::PosixFileSystem>(), data_dir_, WalOptions{.segment_bytes = 4096});
    ASSERT_TRUE(opened) << opened.status().message();
    for (int i = 1; i <= kEntries; ++i) {
      const Entry entry{.term = i <= 20 ? Term{2} : Term{3},
                        .index = static_cast<Index>(i),
                        .type = EntryType::kNormal,
                        .data = std::string(200, static_cast<char>('a' + i % 26))};
      ASSERT_TRUE(opened->wal->append(std::vector<Entry>{entry},
                                      i == kEntries ? std::optional(kHardState) : std::nullopt));
      ASSERT_TRUE(opened->wal->sync());
    }
  }

  // Runs the command; its exit code, with what it printed.
  int inspect(const std::string& dir) {
    out_.str("");
    err_.str("");
    const std::vector<std::string> args = {dir};
    return ctl::run_wal_inspect(args, out_, err_);
  }

  std::string first_segment() const { return data_dir_ + "/wal/0000000000000001.wal"; }

  std::string data_dir_ = fresh_test_dir() + "/data";
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(WalInspect, ListsEverySegmentWithItsEntriesAndTheHardState) {
  Result<ctl::WalScan> scan = ctl::scan_wal(data_dir_);
  ASSERT_TRUE(scan) << scan.status().message();
  ASSERT_GE(scan->segments.size(), 3u);
  uint64_t entries = 0;
  for (const ctl::SegmentScan& segment : scan->segments) {
    entries += segment.entries;
    EXPECT_TRUE(segment.damage.empty()) << segment.file_name << ": " << segment.damage;
  }
  EXPECT_EQ(entries, uint64_t{kEntries});
  EXPECT_TRUE(scan->segments.front().sealed);
  EXPECT_FALSE(scan->segments.back().sealed);
  EXPECT_EQ(scan->segments.front().first_index, 1u);
  EXPECT_EQ(scan->segments.front().first_term, 2u);
  EXPECT_EQ(scan->segments.back().last_index, Index{kEntries});
  EXPECT_EQ(scan->segments.back().last_term, 3u);
  ASSERT_TRUE(scan->replay) << scan->replay.status().message();
  EXPECT_EQ(scan->replay->hard_state, kHardState);

  EXPECT_EQ(inspect(data_dir_), 0) << err_.str();
  EXPECT_NE(out_.str().find("hard state: term 3, vote 2, commit 50"), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("log: entries 1..60 (terms 2..3)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("recovery: ok\n"), std::string::npos) << out_.str();
}

TEST_F(WalInspect, TakesTheDataDirOrItsWalDir) {
  EXPECT_EQ(inspect(data_dir_ + "/wal"), 0) << err_.str();
  EXPECT_NE(out_.str().find("wal: " + data_dir_ + "/wal ("), std::string::npos) << out_.str();
}

TEST_F(WalInspect, AFlippedByteInASealedSegmentIsNamedByFileAndOffsetAndLeftAlone) {
  flip_byte(first_segment(), kFirstEntryData + 5);
  const std::string damaged = read_bytes(first_segment());
  EXPECT_EQ(inspect(data_dir_), 1);
  const std::string error = err_.str();
  EXPECT_NE(error.find("0000000000000001.wal"), std::string::npos) << error;
  EXPECT_NE(error.find("offset " + std::to_string(kFirstEntryRecord)), std::string::npos) << error;
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
  EXPECT_NE(out_.str().find("damaged at offset " + std::to_string(kFirstEntryRecord)),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(read_bytes(first_segment()), damaged);  // read only: nothing repaired
}

TEST_F(WalInspect, ATornTailIsReportedAndNotCut) {
  Result<ctl::WalScan> before = ctl::scan_wal(data_dir_);
  ASSERT_TRUE(before);
  const ctl::SegmentScan& last = before->segments.back();
  const std::string path = data_dir_ + "/wal/" + last.file_name;
  std::string bytes = read_bytes(path);
  bytes.replace(last.end_offset, 20, std::string(20, '\x5a'));  // a write the power cut tore
  write_bytes(path, bytes);
  EXPECT_EQ(inspect(data_dir_), 0) << err_.str();
  EXPECT_NE(out_.str().find("torn tail in " + last.file_name + " at offset " +
                            std::to_string(last.end_offset)),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(read_bytes(path), bytes);
}

TEST_F(WalInspect, ADirectoryWithoutSegmentsIsAnError) {
  const std::string empty = fresh_test_dir();
  EXPECT_EQ(inspect(empty), 1);
  EXPECT_NE(err_.str().find("no segments"), std::string::npos) << err_.str();
}

TEST_F(WalInspect, WrongArgumentsExitTwo) {
  const std::vector<std::string> none;
  EXPECT_EQ(ctl::run_wal_inspect(none, out_, err_), 2);
  EXPECT_NE(err_.str().find("expects 1 argument (DIR), got 0"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace dengine::test
