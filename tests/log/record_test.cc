#include "log/record.h"

#include <gtest/gtest.h>

#include "log/segment.h"
#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

constexpr uint32_t kSalt = 0xfeedbeef;

TEST(RecordFraming, EntryRoundTrips) {
  for (size_t size : {0, 1, 7, 8, 100, 4000}) {
    const Entry entry = testing::make_entry(42, 7, size);
    std::string segment(64, 'h');  // records follow a header; offsets are absolute
    append_entry_record(segment, kSalt, 64, entry);
    ASSERT_EQ(segment.size(), 64 + framed_entry_bytes(size));
    ASSERT_EQ(segment.size() % kRecordAlignment, 0u);
    const ParsedRecord parsed = parse_record(segment, 64, kSalt);
    ASSERT_EQ(parsed.kind, ParsedRecord::Kind::kRecord) << parsed.problem;
    EXPECT_EQ(parsed.record.type, RecordType::kEntry);
    EXPECT_EQ(parsed.record.synced_offset, 64u);
    EXPECT_EQ(parsed.record.framed_bytes, framed_entry_bytes(size));
    const std::optional<Entry> decoded = decode_entry(parsed.record.payload);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, entry);
  }
}

TEST(RecordFraming, HardStateTruncateAndSealRoundTrip) {
  std::string bytes;
  const HardState hard_state{.term = 9, .vote = 3, .commit = 77};
  append_hard_state_record(bytes, kSalt, 0, hard_state);
  append_index_record(bytes, kSalt, 0, RecordType::kTruncate, 55);
  append_index_record(bytes, kSalt, 0, RecordType::kSeal, 54);

  ParsedRecord parsed = parse_record(bytes, 0, kSalt);
  ASSERT_EQ(parsed.kind, ParsedRecord::Kind::kRecord);
  EXPECT_EQ(decode_hard_state(parsed.record.payload), hard_state);
  size_t offset = parsed.record.framed_bytes;
  parsed = parse_record(bytes, offset, kSalt);
  ASSERT_EQ(parsed.kind, ParsedRecord::Kind::kRecord);
  EXPECT_EQ(parsed.record.type, RecordType::kTruncate);
  EXPECT_EQ(decode_index(parsed.record.payload), 55u);
  offset += parsed.record.framed_bytes;
  parsed = parse_record(bytes, offset, kSalt);
  ASSERT_EQ(parsed.kind, ParsedRecord::Kind::kRecord);
  EXPECT_EQ(parsed.record.type, RecordType::kSeal);
  offset += parsed.record.framed_bytes;
  EXPECT_EQ(parse_record(bytes, offset, kSalt).kind, ParsedRecord::Kind::kEnd);
}

TEST(RecordFraming, ZerosMarkTheEnd) {
  const std::string zeros(64, '\0');
  EXPECT_EQ(parse_record(zeros, 0, kSalt).kind, ParsedRecord::Kind::kEnd);
  EXPECT_EQ(parse_record(zeros, 56, kSalt).kind, ParsedRecord::Kind::kEnd);  // < a header left
}

TEST(RecordFraming, EveryFlippedBitIsDetected) {
  std::string bytes;
  append_entry_record(bytes, kSalt, 0, testing::make_entry(5, 2, 21));
  const size_t checked = kRecordHeaderBytes + kEntryPayloadHeaderBytes + 21;  // not the padding
  for (size_t byte = 0; byte < checked; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_EQ(parse_record(damaged, 0, kSalt).kind, ParsedRecord::Kind::kInvalid)
          << byte << ":" << bit;
    }
  }
}

TEST(RecordFraming, ChecksumMismatchNamesBothValues) {
  std::string bytes;
  append_entry_record(bytes, kSalt, 0, testing::make_entry(5, 2, 21));
  bytes[20] = static_cast<char>(bytes[20] ^ 1);
  const ParsedRecord parsed = parse_record(bytes, 0, kSalt);
  ASSERT_EQ(parsed.kind, ParsedRecord::Kind::kInvalid);
  EXPECT_TRUE(parsed.checksum_mismatch);
  EXPECT_NE(parsed.problem.find("checksum mismatch (expected 0x"), std::string::npos);
  EXPECT_NE(parsed.problem.find("found 0x"), std::string::npos);
}

TEST(RecordFraming, RecordFromAnotherSegmentFailsItsChecksum) {
  std::string bytes;
  append_entry_record(bytes, kSalt, 0, testing::make_entry(5, 2, 21));
  EXPECT_EQ(parse_record(bytes, 0, kSalt + 1).kind, ParsedRecord::Kind::kInvalid);
}

TEST(RecordFraming, LengthPastTheEndIsInvalid) {
  std::string bytes;
  append_entry_record(bytes, kSalt, 0, testing::make_entry(5, 2, 100));
  bytes.resize(60);
  const ParsedRecord parsed = parse_record(bytes, 0, kSalt);
  EXPECT_EQ(parsed.kind, ParsedRecord::Kind::kInvalid);
  EXPECT_NE(parsed.problem.find("runs past the end"), std::string::npos);
}

TEST(SegmentNaming, SixteenHexDigitsRoundTrip) {
  EXPECT_EQ(segment_file_name(1), "0000000000000001.wal");
  EXPECT_EQ(segment_file_name(0x42), "0000000000000042.wal");
  EXPECT_EQ(segment_file_name(UINT64_MAX), "ffffffffffffffff.wal");
  EXPECT_EQ(parse_segment_file_name("0000000000000042.wal"), 0x42u);
  EXPECT_EQ(parse_segment_file_name("ffffffffffffffff.wal"), UINT64_MAX);
  EXPECT_FALSE(parse_segment_file_name("0000000000000042.wal.tmp").has_value());
  EXPECT_FALSE(parse_segment_file_name("000000000000042.wal").has_value());
  EXPECT_FALSE(parse_segment_file_name("000000000000004G.wal").has_value());
  EXPECT_FALSE(parse_segment_file_name("000000000000004A.wal").has_value());
  EXPECT_FALSE(parse_segment_file_name("0000000000000042.log").has_value());
}

TEST(SegmentHeader, RoundTripsAndRejectsDamage) {
  const SegmentHeader header{.seq = 12, .first_index = 0x42, .prev_term = 5, .salt = 99};
  const std::string bytes = encode_segment_header(header);
  ASSERT_EQ(bytes.size(), kSegmentHeaderBytes);
  Result<SegmentHeader> decoded = decode_segment_header(bytes, "0000000000000042.wal");
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->seq, 12u);
  EXPECT_EQ(decoded->first_index, 0x42u);
  EXPECT_EQ(decoded->prev_term, 5u);
  EXPECT_EQ(decoded->salt, 99u);
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    std::string damaged = bytes;
    damaged[byte] = static_cast<char>(damaged[byte] ^ 0x10);
    Result<SegmentHeader> bad = decode_segment_header(damaged, "0000000000000042.wal");
    ASSERT_FALSE(bad.has_value()) << byte;
    EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
    EXPECT_NE(bad.status().message().find("0000000000000042.wal"), std::string::npos);
  }
  EXPECT_EQ(decode_segment_header(bytes.substr(0, 10), "x.wal").status().code(),
            StatusCode::kCorruption);
}

// Every record's checksum is salted with its segment's salt: segments written before a change
// to this function would no longer read back.
TEST(SegmentHeader, SaltsAreTheSameFunctionOfTheSequenceAsEver) {
  EXPECT_EQ(segment_salt(0), 0x7b1dcdafU);
  EXPECT_EQ(segment_salt(1), 0x89025cc1U);
  EXPECT_EQ(segment_salt(2), 0x1c9756ceU);
  EXPECT_EQ(segment_salt(42), 0x2feb6e95U);
  EXPECT_EQ(segment_salt(1000), 0x4dccc148U);
}

}  // namespace
}  // namespace dengine::log
