// The saved snapshot file (src/tools/snapshot_file.h): the size etcdctl checks, etcd's
// remaining_bytes, and every kind of damage refused with the file, the offset and "corrupt" or
// "checksum" in the message.

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "log/crc32c.h"
#include "log/posix_file_system.h"
#include "log/record.h"
#include "tests/ctl/ctl_test_util.h"
#include "tests/support/scratch_dir.h"
#include "tools/sha256.h"
#include "tools/snapshot_file_reader.h"
#include "tools/snapshot_file_writer.h"

namespace dengine::test {
namespace {

using tools::SnapshotFileWriter;

// Small chunks, so that files span several and the stream has many chunk boundaries.
constexpr size_t kChunkBytes = 100;

tools::SnapshotDescription sample_description() {
  return tools::SnapshotDescription{
      .image_kind = tools::ImageKind::kRocksDbCheckpoint,
      .member_id = 0x8e9e05c52164694d,
      .cluster_id = 0xcdf818194e3a8c32,
      .taken_unix_ms = 1'700'000'000'000,
      .image = SnapshotMeta{
          .index = 42,
          .term = 3,
          .conf = ConfState{.voters = {1, 2, 3}, .voters_outgoing = {}, .learners = {4}}}};
}

class SnapshotFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(image_dir_);
    for (const auto& [name, bytes] : files_) write_bytes(image_dir_ + "/" + name, bytes);
    ASSERT_TRUE(tools::write_snapshot_file(image_dir_, sample_description(), path_, kChunkBytes));
  }

  // verify_snapshot_file's error, expecting damage to be reported as such.
  std::string damage() {
    Result<tools::SnapshotFileContents> verified = tools::verify_snapshot_file(path_);
    EXPECT_FALSE(verified) << "damage went unnoticed";
    if (verified) return {};
    const std::string message = verified.status().message();
    EXPECT_EQ(verified.status().code(), StatusCode::kCorruption) << message;
    EXPECT_NE(message.find(path_), std::string::npos) << message;
    EXPECT_NE(message.find("offset"), std::string::npos) << message;
    EXPECT_TRUE(message.find("corrupt") != std::string::npos ||
                message.find("checksum") != std::string::npos)
        << message;
    return message;
  }

  std::string dir_ = fresh_test_dir();
  std::string image_dir_ = dir_ + "/image";
  std::string path_ = dir_ + "/snapshot.db";
  std::map<std::string, std::string> files_ = {
      {"000012.sst", std::string(1000, 'x') + "tail"},
      {"CURRENT", "MANIFEST-000005\n"},
      {"EMPTY", ""},
      {"MANIFEST-000005", std::string(250, 'm')},
  };
};

TEST_F(SnapshotFile, SizeIsWholeBlocksThenTheSha256AsEtcdctlChecks) {
  const std::string bytes = read_bytes(path_);
  EXPECT_EQ(bytes.size() % 512, 32u);  // etcdctl 3.4's hasChecksum
  tools::Sha256 sha;
  sha.add(std::string_view(bytes).substr(0, bytes.size() - 32));
  const tools::Sha256Digest digest = sha.digest();
  EXPECT_EQ(bytes.substr(bytes.size() - 32),
            std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

TEST_F(SnapshotFile, RemainingBytesCountDownToZeroThenTheDigestFollows) {
  Result<SnapshotFileWriter> writer =
      SnapshotFileWriter::open(image_dir_, sample_description(), kChunkBytes);
  ASSERT_TRUE(writer) << writer.status().message();
  uint64_t sent = 0;
  std::vector<SnapshotFileWriter::Piece> pieces;
  while (true) {
    Result<std::optional<SnapshotFileWriter::Piece>> piece = writer->next();
    ASSERT_TRUE(piece) << piece.status().message();
    if (!piece->has_value()) break;
    pieces.push_back(std::move(**piece));
  }
  ASSERT_GE(pieces.size(), 3u);
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    sent += pieces[i].bytes.size();
    EXPECT_EQ(pieces[i].remaining_bytes, writer->body_bytes() - sent) << "piece " << i;
  }
  EXPECT_EQ(pieces.back().bytes.size(), tools::kSha256Bytes);
  EXPECT_EQ(pieces.back().remaining_bytes, 0u);
  EXPECT_EQ(sent + tools::kSha256Bytes, read_bytes(path_).size());
}

TEST_F(SnapshotFile, VerifyingGivesBackTheDescriptionAndWritesNothing) {
  Result<tools::SnapshotFileContents> verified = tools::verify_snapshot_file(path_);
  ASSERT_TRUE(verified) << verified.status().message();
  EXPECT_EQ(verified->format_version, 1u);
  EXPECT_EQ(verified->description, sample_description());
  EXPECT_EQ(verified->image_files, files_.size());
  EXPECT_EQ(verified->image_bytes, 1004u + 16u + 250u);
  EXPECT_EQ(verified->file_bytes, read_bytes(path_).size());
  EXPECT_FALSE(std::filesystem::exists("verify"));
}

TEST_F(SnapshotFile, ReadingExtractsTheImageFileForFile) {
  Result<tools::SnapshotFileContents> read = tools::read_snapshot_file(
      path_, std::make_shared<log::PosixFileSystem>(), dir_ + "/extracted");
  ASSERT_TRUE(read) << read.status().message();
  for (const auto& [name, bytes] : files_) {
    EXPECT_EQ(read_bytes(read->image_dir + "/" + name), bytes) << name;
  }
}

TEST_F(SnapshotFile, AFlippedByteInTheHeaderIsCorruption) {
  flip_byte(path_, 9);  // the format version: the header's CRC no longer holds
  EXPECT_NE(damage().find("header checksum mismatch"), std::string::npos);
}

TEST_F(SnapshotFile, AFlippedByteInAChunkIsCorruptionAtThatChunk) {
  flip_byte(path_, 700);  // inside the file data
  const std::string message = damage();
  EXPECT_NE(message.find("checksum mismatch"), std::string::npos) << message;
}

TEST_F(SnapshotFile, AFlippedByteInThePaddingIsCorruption) {
  const uint64_t size = read_bytes(path_).size();
  flip_byte(path_, size - tools::kSha256Bytes - 1);  // the padding's last byte
  EXPECT_NE(damage().find("padding"), std::string::npos);
}

TEST_F(SnapshotFile, AFlippedByteInTheDigestIsAChecksumMismatch) {
  flip_byte(path_, read_bytes(path_).size() - 1);
  EXPECT_NE(damage().find("sha256 checksum mismatch"), std::string::npos);
}

TEST_F(SnapshotFile, ATruncatedFileIsCorruption) {
  const std::string bytes = read_bytes(path_);
  for (const size_t size :
       {size_t{10}, size_t{300}, bytes.size() / 2, bytes.size() - 33, bytes.size() - 1}) {
    write_bytes(path_, bytes.substr(0, size));
    SCOPED_TRACE("truncated to " + std::to_string(size) + " bytes");
    damage();
  }
}

TEST_F(SnapshotFile, BytesAfterTheDigestAreCorruption) {
  write_bytes(path_, read_bytes(path_) + std::string(512, '\0'));
  EXPECT_NE(damage().find("follow the trailing sha256"), std::string::npos);
}

TEST_F(SnapshotFile, AnotherFileIsNotTakenForASnapshot) {
  write_bytes(path_, std::string(512 + 32, 'b'));  // etcd's own snapshot would fail the same way
  EXPECT_NE(damage().find("DENGSNAP"), std::string::npos);
}

TEST_F(SnapshotFile, ANewerFormatVersionIsRefusedAsSuch) {
  std::string bytes = read_bytes(path_);
  std::string header(tools::kSnapshotFileMagic);
  log::put_u32(header, 2);
  log::put_u32(header, log::crc32c(header.data(), header.size()));
  write_bytes(path_, header + bytes.substr(header.size()));
  Result<tools::SnapshotFileContents> verified = tools::verify_snapshot_file(path_);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(verified.status().message().find("format version 2"), std::string::npos);
}

TEST(SnapshotDescription, RoundTrips) {
  const tools::SnapshotDescription description = sample_description();
  Result<tools::SnapshotDescription> decoded =
      tools::decode_description(tools::encode_description(description));
  ASSERT_TRUE(decoded) << decoded.status().message();
  EXPECT_EQ(*decoded, description);
}

TEST(SnapshotDescription, TruncatedBytesAreCorruption) {
  const std::string encoded = tools::encode_description(sample_description());
  for (size_t size = 0; size < encoded.size(); ++size) {
    Result<tools::SnapshotDescription> decoded = tools::decode_description(encoded.substr(0, size));
    ASSERT_FALSE(decoded) << size;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << size;
  }
}

}  // namespace
}  // namespace dengine::test
