// Snapshot transfer: the chunk format, the sender, and the receiver's checks and atomic install,
// on the fault-injecting file system (power cuts at every step) and on real files.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "log/crc32c.h"
#include "log/fault_injecting_file_system.h"
#include "log/posix_file_system.h"
#include "log/record.h"
#include "log/snapshot_chunk.h"
#include "log/snapshot_receiver.h"
#include "log/snapshot_sender.h"
#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

using testing::Rng;
using Files = std::map<std::string, std::string>;  // name -> contents

constexpr uint64_t kId = 0x2a;
constexpr size_t kChunkBytes = 1024;
const std::string kMeta = "raft snapshot meta: index 42, term 7";
const std::string kRoot = "/node/snapshots";

std::string pattern(size_t size, uint64_t seed) {
  Rng rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng.uniform(256));
  return bytes;
}

// A RocksDB checkpoint in miniature: an empty file, one much larger than a chunk, small ones.
Files sample_files() {
  return Files{{"000007.sst", pattern(5 * kChunkBytes + 123, 1)},
               {"000009.sst", pattern(kChunkBytes, 2)},
               {"CURRENT", "MANIFEST-000011\n"},
               {"EMPTY.log", ""},
               {"MANIFEST-000011", pattern(300, 3)},
               {"OPTIONS-000013", pattern(2 * kChunkBytes - 1, 4)}};
}

void write_dir(FileSystem& fs, const std::string& dir, const Files& files) {
  ASSERT_TRUE(fs.create_dir(parent_dir(dir)).has_value());
  ASSERT_TRUE(fs.create_dir(dir).has_value());
  for (const auto& [name, contents] : files) {
    auto file = fs.create(join_path(dir, name));
    ASSERT_TRUE(file.has_value()) << file.status().to_string();
    ASSERT_TRUE((*file)->append(contents));
    ASSERT_TRUE((*file)->sync());
  }
  ASSERT_TRUE(fs.sync_dir(dir));
}

Files read_dir(FileSystem& fs, const std::string& dir) {
  Files files;
  Result<std::vector<std::string>> names = fs.list_dir(dir);
  EXPECT_TRUE(names.has_value()) << names.status().to_string();
  if (!names) return files;
  for (const std::string& name : *names) {
    Result<std::string> contents = fs.read_file(join_path(dir, name));
    EXPECT_TRUE(contents.has_value()) << contents.status().to_string();
    if (contents) files[name] = *contents;
  }
  return files;
}

std::vector<std::string> send_all(std::shared_ptr<FileSystem> fs, const std::string& dir,
                                  uint64_t id = kId, size_t chunk_bytes = kChunkBytes) {
  Result<SnapshotSender> sender =
      SnapshotSender::open(std::move(fs), dir, id, kMeta, {.max_chunk_bytes = chunk_bytes});
  EXPECT_TRUE(sender.has_value()) << sender.status().to_string();
  std::vector<std::string> chunks;
  if (!sender) return chunks;
  while (true) {
    Result<std::optional<std::string>> chunk = sender->next_chunk();
    EXPECT_TRUE(chunk.has_value()) << chunk.status().to_string();
    if (!chunk || !chunk->has_value()) break;
    chunks.push_back(std::move(**chunk));
  }
  return chunks;
}

// The chunks of the sample snapshot, sent from a fault-injecting file system of their own.
std::vector<std::string> sample_chunks(uint64_t id = kId) {
  auto source = std::make_shared<FaultInjectingFileSystem>(7);
  write_dir(*source, "/leader/snap", sample_files());
  return send_all(source, "/leader/snap", id);
}

std::string encode(const SnapshotChunk& chunk) {
  Result<std::string> encoded = encode_chunk(chunk);
  EXPECT_TRUE(encoded.has_value()) << encoded.status().to_string();
  return encoded ? *encoded : std::string();
}

// Recomputes the chunk checksum after a test edited the bytes on purpose.
void reseal(std::string& chunk) {
  const uint32_t crc =
      crc32c_extend(crc32c(chunk.data(), 28), chunk.data() + 32, chunk.size() - 32);
  std::string crc_bytes;
  put_u32(crc_bytes, crc);
  chunk.replace(28, 4, crc_bytes);
}

class SnapshotReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_->create_dir("/node").has_value());
    Result<SnapshotReceiver> opened = SnapshotReceiver::open(fs_, kRoot);
    ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
    receiver_.emplace(std::move(*opened));
  }

  // Feeds chunks[from, to) and expects each to be taken.
  void feed(const std::vector<std::string>& chunks, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      auto taken = receiver_->accept(chunks[i]);
      ASSERT_TRUE(taken.has_value()) << i << ": " << taken.status().to_string();
    }
  }

  std::vector<std::string> root_entries() { return *fs_->list_dir(kRoot); }

  std::shared_ptr<FaultInjectingFileSystem> fs_ = std::make_shared<FaultInjectingFileSystem>(3);
  std::optional<SnapshotReceiver> receiver_;
};

void expect_rejected(const Result<std::optional<InstalledSnapshot>>& taken, StatusCode code,
                     std::string_view words) {
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.status().code(), code) << taken.status().to_string();
  EXPECT_NE(taken.status().message().find(words), std::string::npos) << taken.status().message();
}

// ---- the chunk format ----

TEST(SnapshotChunk, EachKindRoundTripsAndReencodesToTheSameBytes) {
  const std::string data = pattern(777, 9);
  for (const SnapshotChunk& chunk :
       {begin_chunk(kId, kMeta, 3, 1234), file_data_chunk(kId, 5, "000012.sst", 4096, data),
        file_data_chunk(kId, 6, "EMPTY", 0, ""), end_chunk(kId, 9, 3, 1234, 0xdeadbeef)}) {
    const std::string bytes = encode(chunk);
    Result<SnapshotChunk> decoded = decode_chunk(bytes);
    ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
    EXPECT_EQ(decoded->snapshot_id, chunk.snapshot_id);
    EXPECT_EQ(decoded->sequence, chunk.sequence);
    EXPECT_EQ(decoded->kind, chunk.kind);
    EXPECT_EQ(decoded->metadata, chunk.metadata);
    EXPECT_EQ(decoded->file_count, chunk.file_count);
    EXPECT_EQ(decoded->total_bytes, chunk.total_bytes);
    EXPECT_EQ(decoded->file_name, chunk.file_name);
    EXPECT_EQ(decoded->offset, chunk.offset);
    EXPECT_EQ(decoded->data, chunk.data);
    EXPECT_EQ(decoded->stream_crc, chunk.stream_crc);
    EXPECT_EQ(encode(*decoded), bytes);
  }
}

TEST(SnapshotChunk, EverySingleBitFlipIsRejected) {
  for (const std::string& chunk : sample_chunks()) {
    for (size_t bit = 0; bit < chunk.size() * 8; ++bit) {
      std::string flipped = chunk;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      Result<SnapshotChunk> decoded = decode_chunk(flipped);
      ASSERT_FALSE(decoded.has_value()) << "bit " << bit << " of " << chunk.size() << " bytes";
    }
  }
}

TEST(SnapshotChunk, EveryTruncationAndAnyPaddingIsRejected) {
  const std::string chunk = encode(file_data_chunk(kId, 1, "CURRENT", 0, "MANIFEST-000011\n"));
  for (size_t size = 0; size < chunk.size(); ++size) {
    Result<SnapshotChunk> decoded = decode_chunk(std::string_view(chunk).substr(0, size));
    ASSERT_FALSE(decoded.has_value()) << size;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
  Result<SnapshotChunk> padded = decode_chunk(chunk + std::string(1, '\0'));
  ASSERT_FALSE(padded.has_value());
  EXPECT_NE(padded.status().message().find("truncated or padded"), std::string::npos);
}

TEST(SnapshotChunk, AnUnknownFormatVersionIsNamed) {
  std::string chunk = encode(end_chunk(kId, 1, 0, 0, 0));
  chunk[4] = 2;
  Result<SnapshotChunk> decoded = decode_chunk(chunk);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(decoded.status().message().find("unsupported format version 2"), std::string::npos);
}

TEST(SnapshotChunk, PathTraversalAndOtherNonPlainNamesAreRefused) {
  for (const std::string& name :
       {std::string("../../etc/passwd"), std::string(".."), std::string("."), std::string(),
        std::string("sub/file"), std::string("/abs"), std::string("a\0b", 3),
        std::string(kMaxSnapshotFileNameBytes + 1, 'x')}) {
    Result<std::string> encoded = encode_chunk(file_data_chunk(kId, 1, name, 0, "x"));
    ASSERT_FALSE(encoded.has_value()) << name;
    EXPECT_EQ(encoded.status().code(), StatusCode::kInvalidArgument);
  }
  // A forged chunk with a valid checksum is refused by the decoder too.
  std::string forged = encode(file_data_chunk(kId, 1, "aa_passwd", 0, "x"));
  forged.replace(34, 3, "../");
  reseal(forged);
  Result<SnapshotChunk> decoded = decode_chunk(forged);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("\"../passwd\" contains '/'"), std::string::npos)
      << decoded.status().message();
}

TEST(SnapshotChunk, BoundsAreCheckedOnBothSides) {
  const std::string too_much(kMaxSnapshotChunkDataBytes + 1, 'x');
  EXPECT_FALSE(encode_chunk(file_data_chunk(kId, 1, "f", 0, too_much)).has_value());
  const std::string big_meta(kMaxSnapshotMetadataBytes + 1, 'm');
  EXPECT_FALSE(encode_chunk(begin_chunk(kId, big_meta, 1, 1)).has_value());
  EXPECT_FALSE(encode_chunk(end_chunk(kId, 1, kMaxSnapshotFiles + 1, 0, 0)).has_value());
  EXPECT_FALSE(encode_chunk(file_data_chunk(kId, 1, "f", UINT64_MAX, "x")).has_value());
  EXPECT_FALSE(encode_chunk(file_data_chunk(kId, 0, "f", 0, "x")).has_value());  // sequence 0
  SnapshotChunk begin = begin_chunk(kId, kMeta, 1, 1);
  begin.sequence = 1;
  EXPECT_FALSE(encode_chunk(begin).has_value());

  // A forged data length beyond the bound, checksum fixed up.
  std::string forged = encode(file_data_chunk(kId, 1, "f", 0, "x"));
  std::string length;
  put_u32(length, static_cast<uint32_t>(kMaxSnapshotChunkDataBytes + 1));
  forged.replace(32 + 2 + 1 + 8, 4, length);
  reseal(forged);
  Result<SnapshotChunk> decoded = decode_chunk(forged);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.status().message().find("data length"), std::string::npos)
      << decoded.status().message();
}

// ---- the sender ----

TEST(SnapshotSender, SendsFilesInNameOrderInBoundedChunks) {
  const std::vector<std::string> chunks = sample_chunks();
  ASSERT_GE(chunks.size(), 3u);
  std::vector<std::string> names;
  size_t data_chunks = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    Result<SnapshotChunk> chunk = decode_chunk(chunks[i]);
    ASSERT_TRUE(chunk.has_value()) << chunk.status().to_string();
    EXPECT_EQ(chunk->sequence, i);
    EXPECT_EQ(chunk->snapshot_id, kId);
    if (i == 0) {
      EXPECT_EQ(chunk->kind, SnapshotChunkKind::kBegin);
      EXPECT_EQ(chunk->metadata, kMeta);
      EXPECT_EQ(chunk->file_count, sample_files().size());
    } else if (i + 1 == chunks.size()) {
      EXPECT_EQ(chunk->kind, SnapshotChunkKind::kEnd);
    } else {
      ASSERT_EQ(chunk->kind, SnapshotChunkKind::kFileData);
      EXPECT_LE(chunk->data.size(), kChunkBytes);
      ++data_chunks;
      if (names.empty() || names.back() != chunk->file_name) {
        names.emplace_back(chunk->file_name);
      }
    }
  }
  std::vector<std::string> expected;
  for (const auto& [name, contents] : sample_files()) expected.push_back(name);
  EXPECT_EQ(names, expected);
  EXPECT_EQ(data_chunks, 6u + 1u + 1u + 1u + 1u + 2u);  // the empty file is one empty chunk
}

TEST(SnapshotSender, RefusesBadOptionsAndNonPlainNames) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(1);
  write_dir(*fs, "/leader/snap", {{std::string(kMaxSnapshotFileNameBytes + 1, 'n'), "x"}});
  Result<SnapshotSender> long_name = SnapshotSender::open(fs, "/leader/snap", kId, kMeta);
  ASSERT_FALSE(long_name.has_value());
  EXPECT_EQ(long_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SnapshotSender::open(fs, "/leader/snap", kId, kMeta, {.max_chunk_bytes = 0}));
  EXPECT_FALSE(SnapshotSender::open(fs, "/leader/snap", kId, kMeta,
                                    {.max_chunk_bytes = kMaxSnapshotChunkDataBytes + 1}));
  EXPECT_FALSE(SnapshotSender::open(fs, "/leader/missing", kId, kMeta));
}

TEST(SnapshotSender, AFileThatShrinksWhileBeingSentFailsTheStream) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(1);
  write_dir(*fs, "/leader/snap", {{"a", pattern(3 * kChunkBytes, 5)}});
  Result<SnapshotSender> sender =
      SnapshotSender::open(fs, "/leader/snap", kId, kMeta, {.max_chunk_bytes = kChunkBytes});
  ASSERT_TRUE(sender.has_value());
  ASSERT_TRUE(sender->next_chunk().has_value());  // begin
  ASSERT_TRUE(sender->next_chunk().has_value());  // first data chunk
  ASSERT_TRUE(fs->damage("/leader/snap/a", [](std::string& bytes) { bytes.resize(1500); }));
  Result<std::optional<std::string>> next = sender->next_chunk();
  ASSERT_FALSE(next.has_value());
  EXPECT_NE(next.status().message().find("changed while being sent"), std::string::npos)
      << next.status().message();
  EXPECT_FALSE(sender->next_chunk().has_value());  // sticky
}

// ---- the receiver ----

TEST_F(SnapshotReceiverTest, InstallsAMultiFileSnapshotByteIdentical) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, chunks.size() - 1);
  EXPECT_TRUE(receiver_->receiving());
  auto installed = receiver_->accept(chunks.back());
  ASSERT_TRUE(installed.has_value()) << installed.status().to_string();
  ASSERT_TRUE(installed->has_value());
  EXPECT_EQ((*installed)->path, kRoot + "/snapshot-000000000000002a");
  EXPECT_EQ((*installed)->metadata, kMeta);
  EXPECT_EQ((*installed)->file_count, sample_files().size());
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_EQ(root_entries(), std::vector<std::string>{"snapshot-000000000000002a"});
  EXPECT_EQ(read_dir(*fs_, (*installed)->path), sample_files());
  // Durable: a power cut right after keeps all of it.
  fs_->power_cut();
  EXPECT_EQ(read_dir(*fs_, (*installed)->path), sample_files());
}

TEST_F(SnapshotReceiverTest, AnEmptySnapshotDirectoryInstallsToo) {
  auto source = std::make_shared<FaultInjectingFileSystem>(1);
  write_dir(*source, "/leader/snap", {});
  const std::vector<std::string> chunks = send_all(source, "/leader/snap");
  ASSERT_EQ(chunks.size(), 2u);
  feed(chunks, 0, 1);
  auto installed = receiver_->accept(chunks[1]);
  ASSERT_TRUE(installed.has_value() && installed->has_value()) << installed.status().to_string();
  EXPECT_TRUE(read_dir(*fs_, (*installed)->path).empty());
}

TEST_F(SnapshotReceiverTest, ACallerGivenNameIsUsedAndNeverReplaced) {
  ASSERT_FALSE(SnapshotReceiver::open(fs_, kRoot, {.final_dir_name = "a/b"}).has_value());
  ASSERT_FALSE(
      SnapshotReceiver::open(fs_, kRoot, {.final_dir_name = "snapshot.tmp-x"}).has_value());
  Result<SnapshotReceiver> named = SnapshotReceiver::open(fs_, kRoot, {.final_dir_name = "snap"});
  ASSERT_TRUE(named.has_value());
  const std::vector<std::string> chunks = sample_chunks();
  for (size_t i = 0; i + 1 < chunks.size(); ++i) ASSERT_TRUE(named->accept(chunks[i]));
  auto installed = named->accept(chunks.back());
  ASSERT_TRUE(installed.has_value() && installed->has_value()) << installed.status().to_string();
  EXPECT_EQ((*installed)->path, kRoot + "/snap");
  expect_rejected(named->accept(chunks[0]), StatusCode::kFailedPrecondition, "already exists");
  EXPECT_FALSE(named->receiving());
}

TEST_F(SnapshotReceiverTest, ADuplicateChunkIsRejectedAndChangesNothing) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 3);
  expect_rejected(receiver_->accept(chunks[2]), StatusCode::kInvalidArgument,
                  "expected chunk 3 of snapshot 0x2a, got file data chunk 2");
  expect_rejected(receiver_->accept(chunks[2]), StatusCode::kInvalidArgument, "a duplicate");
  expect_rejected(receiver_->accept(chunks[0]), StatusCode::kInvalidArgument, "a duplicate");
  feed(chunks, 3, chunks.size());
  EXPECT_EQ(read_dir(*fs_, kRoot + "/snapshot-000000000000002a"), sample_files());
}

TEST_F(SnapshotReceiverTest, AMissingChunkIsNamedAndTheStreamGoesOnOnceItArrives) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 4);
  expect_rejected(receiver_->accept(chunks[6]), StatusCode::kInvalidArgument,
                  "chunks 4..5 are missing");
  expect_rejected(receiver_->accept(chunks.back()), StatusCode::kInvalidArgument,
                  "expected chunk 4");
  feed(chunks, 4, chunks.size());
  EXPECT_EQ(read_dir(*fs_, kRoot + "/snapshot-000000000000002a"), sample_files());
}

TEST_F(SnapshotReceiverTest, AnotherSnapshotsChunkIsRejected) {
  const std::vector<std::string> chunks = sample_chunks();
  const std::vector<std::string> foreign = sample_chunks(kId + 1);
  feed(chunks, 0, 2);
  expect_rejected(receiver_->accept(foreign[2]), StatusCode::kInvalidArgument,
                  "another snapshot's chunk");
  expect_rejected(receiver_->accept(foreign[0]), StatusCode::kInvalidArgument,
                  "expected chunk 2 of snapshot 0x2a, got begin chunk 0 of snapshot 0x2b");
  EXPECT_EQ(receiver_->snapshot_id(), kId);
  EXPECT_EQ(receiver_->next_sequence(), 2u);
}

TEST_F(SnapshotReceiverTest, AChunkBeforeTheBeginChunkIsRejected) {
  const std::vector<std::string> chunks = sample_chunks();
  expect_rejected(receiver_->accept(chunks[1]), StatusCode::kInvalidArgument,
                  "expected the begin chunk (sequence 0) of a new snapshot");
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(SnapshotReceiverTest, ADamagedChunkIsRejectedAndItsIntactCopyTaken) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 2);
  std::string damaged = chunks[2];
  damaged[100] = static_cast<char>(damaged[100] ^ 0x10);
  expect_rejected(receiver_->accept(damaged), StatusCode::kCorruption, "checksum mismatch");
  feed(chunks, 2, chunks.size());
  EXPECT_EQ(read_dir(*fs_, kRoot + "/snapshot-000000000000002a"), sample_files());
}

TEST_F(SnapshotReceiverTest, ATruncatedStreamInstallsNothingAndAbortRemovesTheStaging) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, chunks.size() - 1);  // no end chunk
  EXPECT_EQ(root_entries(), std::vector<std::string>{"snapshot.tmp-000000000000002a"});
  ASSERT_TRUE(receiver_->abort());
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_TRUE(root_entries().empty());
  feed(chunks, 0, chunks.size());  // and the next attempt succeeds
  EXPECT_EQ(read_dir(*fs_, kRoot + "/snapshot-000000000000002a"), sample_files());
}

TEST_F(SnapshotReceiverTest, AnEndChunkTooEarlyDropsTheTransfer) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 3);
  const std::string early = encode(end_chunk(kId, 3, 6, 0, 0));
  expect_rejected(receiver_->accept(early), StatusCode::kCorruption,
                  "does not match the begin chunk");
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(SnapshotReceiverTest, AStreamChecksumMismatchDropsTheTransfer) {
  std::vector<std::string> chunks = sample_chunks();
  Result<SnapshotChunk> end = decode_chunk(chunks.back());
  ASSERT_TRUE(end.has_value());
  chunks.back() =
      encode(end_chunk(kId, end->sequence, end->file_count, end->total_bytes, end->stream_crc ^ 1));
  feed(chunks, 0, chunks.size() - 1);
  expect_rejected(receiver_->accept(chunks.back()), StatusCode::kCorruption,
                  "stream checksum mismatch");
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(SnapshotReceiverTest, FilesOutOfOrderOrWithGapsAreRejected) {
  feed({encode(begin_chunk(kId, kMeta, 2, 4))}, 0, 1);
  feed({encode(file_data_chunk(kId, 1, "b", 0, "b"))}, 0, 1);
  expect_rejected(receiver_->accept(encode(file_data_chunk(kId, 2, "a", 0, "a"))),
                  StatusCode::kCorruption, "increasing name order");
  expect_rejected(receiver_->accept(encode(file_data_chunk(kId, 2, "b", 5, "b"))),
                  StatusCode::kCorruption, "expected offset 1 of b");
  expect_rejected(receiver_->accept(encode(file_data_chunk(kId, 2, "c", 1, "c"))),
                  StatusCode::kCorruption, "starts a file at offset 1");
  expect_rejected(receiver_->accept(encode(file_data_chunk(kId, 2, "c", 0, "ccccc"))),
                  StatusCode::kCorruption, "goes past the 4 bytes");
  feed(
      {encode(file_data_chunk(kId, 2, "b", 1, "b")), encode(file_data_chunk(kId, 3, "c", 0, "cc"))},
      0, 2);
  expect_rejected(receiver_->accept(encode(file_data_chunk(kId, 4, "d", 0, ""))),
                  StatusCode::kCorruption, "one file more than the 2");
  auto installed = receiver_->accept(encode(end_chunk(kId, 4, 2, 4, crc32c("bbcc"))));
  ASSERT_TRUE(installed.has_value() && installed->has_value()) << installed.status().to_string();
  EXPECT_EQ(read_dir(*fs_, (*installed)->path), (Files{{"b", "bb"}, {"c", "cc"}}));
}

TEST_F(SnapshotReceiverTest, ASnapshotOverTheSizeBoundIsRefused) {
  Result<SnapshotReceiver> small = SnapshotReceiver::open(fs_, kRoot, {.max_snapshot_bytes = 100});
  ASSERT_TRUE(small.has_value());
  expect_rejected(small->accept(sample_chunks()[0]), StatusCode::kResourceExhausted,
                  "over max_snapshot_bytes 100");
}

TEST_F(SnapshotReceiverTest, AWriteFailureDropsTheTransfer) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 2);
  fs_->fail_writes_after_bytes(10);
  auto taken = receiver_->accept(chunks[2]);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.status().code(), StatusCode::kIoError) << taken.status().to_string();
  fs_->clear_faults();
  EXPECT_FALSE(receiver_->receiving());
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(SnapshotReceiverTest, AStartupRemovesStagingDirsAnInterruptedTransferLeft) {
  const std::vector<std::string> chunks = sample_chunks();
  feed(chunks, 0, 4);
  receiver_.reset();  // the process dies mid-transfer
  ASSERT_TRUE(fs_->create_dir(kRoot + "/unrelated").has_value());
  Result<SnapshotReceiver> restarted = SnapshotReceiver::open(fs_, kRoot);
  ASSERT_TRUE(restarted.has_value()) << restarted.status().to_string();
  EXPECT_EQ(restarted->removed_staging_dirs(),
            std::vector<std::string>{"snapshot.tmp-000000000000002a"});
  EXPECT_EQ(root_entries(), std::vector<std::string>{"unrelated"});
}

// After a power cut at any point of a transfer, the snapshot is either installed whole and
// byte-identical or not installed at all, and the next start leaves no staging directory.
TEST(SnapshotInstall, PowerCutAtEveryStepLeavesAllOrNothing) {
  constexpr uint64_t kSeeds = 64;  // power cut randomness per crash point
  const std::vector<std::string> chunks = sample_chunks();
  const std::string final_name = snapshot_dir_name(kId);
  // How many mutating file-system calls one whole transfer makes.
  uint64_t transfer_ops = 0;
  {
    auto fs = std::make_shared<FaultInjectingFileSystem>(0);
    ASSERT_TRUE(fs->create_dir("/node").has_value());
    Result<SnapshotReceiver> receiver = SnapshotReceiver::open(fs, kRoot);
    ASSERT_TRUE(receiver.has_value());
    const uint64_t before = fs->mutating_op_count();
    for (const std::string& chunk : chunks) ASSERT_TRUE(receiver->accept(chunk).has_value());
    transfer_ops = fs->mutating_op_count() - before;
  }
  ASSERT_GT(transfer_ops, 20u);
  uint64_t installed_count = 0;
  uint64_t absent_count = 0;
  uint64_t failed_but_kept = 0;  // the final sync failed, yet the power cut kept the rename
  for (uint64_t crash_at = 0; crash_at <= transfer_ops + 1; ++crash_at) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      SCOPED_TRACE("crash after op " + std::to_string(crash_at) + ", seed " + std::to_string(seed));
      Rng rng(seed * 1000 + crash_at);
      auto fs = std::make_shared<FaultInjectingFileSystem>(seed * 1000 + crash_at);
      ASSERT_TRUE(fs->create_dir("/node").has_value());
      Result<SnapshotReceiver> receiver = SnapshotReceiver::open(fs, kRoot);
      ASSERT_TRUE(receiver.has_value());
      fs->crash_after_ops(crash_at);  // the process dies at that call: every later one fails
      bool installed = false;
      for (const std::string& chunk : chunks) {
        auto taken = receiver->accept(chunk);
        if (!taken) break;
        installed = taken->has_value();
      }
      fs->power_cut(PowerCutOptions{.keep_unsynced_prefix = rng.chance(2),
                                    .random_pages = rng.chance(4),
                                    .tear_page = !rng.chance(3),
                                    .garbage = rng.chance(2),
                                    .keep_dir_ops_prefix = rng.chance(2)});
      fs->clear_faults();

      Result<SnapshotReceiver> restarted = SnapshotReceiver::open(fs, kRoot);
      ASSERT_TRUE(restarted.has_value()) << restarted.status().to_string();
      const std::vector<std::string> entries = *fs->list_dir(kRoot);
      if (entries.empty()) {
        ASSERT_FALSE(installed) << "an install that returned success was lost";
        ++absent_count;
      } else {
        ASSERT_EQ(entries, std::vector<std::string>{final_name});
        ASSERT_EQ(read_dir(*fs, join_path(kRoot, final_name)), sample_files());
        ++installed_count;
        if (!installed) ++failed_but_kept;
      }
    }
  }
  std::printf(
      "snapshot install power cuts: %llu transfer ops, %llu installed (%llu of them after a "
      "failed final sync), %llu absent\n",
      static_cast<unsigned long long>(transfer_ops),
      static_cast<unsigned long long>(installed_count),
      static_cast<unsigned long long>(failed_but_kept),
      static_cast<unsigned long long>(absent_count));
  // Every outcome happens: the cut lands before, at and after the install point.
  EXPECT_GT(installed_count, 2 * kSeeds);
  EXPECT_GT(failed_but_kept, 0u);
  EXPECT_GT(absent_count, kSeeds);
}

// ---- real files ----

TEST(SnapshotTransferOnRealFiles, RoundTripsAMultiFileDirectory) {
  testing::TempDir tmp;
  auto fs = std::make_shared<PosixFileSystem>();
  const std::string source = join_path(tmp.path(), "leader/snap");
  write_dir(*fs, source, sample_files());
  const std::vector<std::string> chunks = send_all(fs, source);

  const std::string root = join_path(tmp.path(), "follower");
  Result<SnapshotReceiver> receiver = SnapshotReceiver::open(fs, root);
  ASSERT_TRUE(receiver.has_value()) << receiver.status().to_string();
  for (size_t i = 0; i + 1 < chunks.size(); ++i) ASSERT_TRUE(receiver->accept(chunks[i]));
  EXPECT_EQ(*fs->list_dir(root), std::vector<std::string>{"snapshot.tmp-000000000000002a"});
  auto installed = receiver->accept(chunks.back());
  ASSERT_TRUE(installed.has_value() && installed->has_value()) << installed.status().to_string();
  EXPECT_EQ(*fs->list_dir(root), std::vector<std::string>{"snapshot-000000000000002a"});
  EXPECT_EQ(read_dir(*fs, (*installed)->path), sample_files());
  EXPECT_EQ((*installed)->metadata, kMeta);
}

TEST(SnapshotTransferOnRealFiles, AbortAndRestartRemoveStagingDirs) {
  testing::TempDir tmp;
  auto fs = std::make_shared<PosixFileSystem>();
  const std::vector<std::string> chunks = sample_chunks();
  const std::string root = join_path(tmp.path(), "follower");
  {
    Result<SnapshotReceiver> receiver = SnapshotReceiver::open(fs, root);
    ASSERT_TRUE(receiver.has_value());
    for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(receiver->accept(chunks[i]));
    ASSERT_TRUE(receiver->abort());
    EXPECT_TRUE(fs->list_dir(root)->empty());
    for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(receiver->accept(chunks[i]));
  }  // dies mid-transfer
  Result<SnapshotReceiver> restarted = SnapshotReceiver::open(fs, root);
  ASSERT_TRUE(restarted.has_value()) << restarted.status().to_string();
  EXPECT_EQ(restarted->removed_staging_dirs().size(), 1u);
  EXPECT_TRUE(fs->list_dir(root)->empty());
}

}  // namespace
}  // namespace dengine::log
