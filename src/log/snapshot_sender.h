#pragma once

// Turns a snapshot directory into a stream of chunks (snapshot_chunk.h), one at a time, for a
// lagging follower's SnapshotReceiver. Files go in name order, each in pieces of at most
// max_chunk_bytes read with read_at(): a multi-gigabyte SST file never sits in memory whole.
//
// The directory must hold plain files only and must not change while it is sent (a RocksDB
// checkpoint or a finished snapshot file never does). Each file's size is taken when the
// sender opens; a file that turns out shorter fails the stream, and bytes appended later are
// not sent.
//
// Not thread-safe: one caller at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dengine/status.h"
#include "log/file_system.h"
#include "log/snapshot_chunk.h"

namespace dengine::log {

struct SnapshotSenderOptions {
  // File bytes per chunk: 1 .. kMaxSnapshotChunkDataBytes.
  size_t max_chunk_bytes = size_t{1} << 20;
};

class SnapshotSender {
 public:
  // Lists `dir` and takes each file's size. `snapshot_id` names the stream (the receiver
  // stages and installs under it); `metadata` travels opaque in the begin chunk.
  // kInvalidArgument for options or metadata out of bounds, or a name that is not plain.
  static Result<SnapshotSender> open(std::shared_ptr<FileSystem> fs, std::string dir,
                                     uint64_t snapshot_id, std::string metadata,
                                     const SnapshotSenderOptions& options = {});

  // The next encoded chunk: the begin chunk, the file data chunks, the end chunk, then
  // nullopt. After an error (a failed read, a file that shrank) every call returns it again.
  Result<std::optional<std::string>> next_chunk();

  [[nodiscard]] uint64_t snapshot_id() const { return snapshot_id_; }
  [[nodiscard]] size_t file_count() const { return files_.size(); }
  [[nodiscard]] uint64_t total_bytes() const { return total_bytes_; }
  // Chunks produced so far.
  [[nodiscard]] uint64_t chunks_sent() const { return next_sequence_; }

 private:
  struct FileToSend {
    std::string name;
    uint64_t size = 0;
  };
  enum class Stage : uint8_t { kBegin, kFiles, kEnd, kDone };

  SnapshotSender(std::shared_ptr<FileSystem> fs, std::string dir, uint64_t snapshot_id,
                 std::string metadata, const SnapshotSenderOptions& options);
  Result<std::string> next_file_data_chunk();
  Result<std::optional<std::string>> fail(Status status);

  std::shared_ptr<FileSystem> fs_;
  std::string dir_;
  uint64_t snapshot_id_;
  std::string metadata_;
  SnapshotSenderOptions options_;
  std::vector<FileToSend> files_;
  uint64_t total_bytes_ = 0;

  Stage stage_ = Stage::kBegin;
  uint64_t next_sequence_ = 0;
  size_t file_index_ = 0;       // the file being sent
  uint64_t file_offset_ = 0;    // how much of it was sent
  std::unique_ptr<File> file_;  // open while it is being sent
  uint32_t stream_crc_ = 0;     // of every file byte sent so far
  Status error_;                // sticky
};

}  // namespace dengine::log
