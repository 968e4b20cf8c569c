#pragma once

// Makes a saved snapshot file (tools/snapshot_file.h) from an image directory, one piece at a
// time, so that a large image is never in memory whole: the header with the begin chunk, each
// file data chunk, the end chunk with the padding, then the digest. Maintenance.Snapshot sends
// each piece as one SnapshotResponse.
//
// The directory must hold plain files only and must not change meanwhile (an image never does).
// Not thread-safe: one caller at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dengine/status.h"
#include "log/snapshot_sender.h"
#include "tools/sha256.h"
#include "tools/snapshot_file.h"

namespace dengine::tools {

class SnapshotFileWriter {
 public:
  struct Piece {
    std::string bytes;
    // etcd's SnapshotResponse.remaining_bytes: bytes of the body (everything before the digest)
    // still to come after this piece; 0 for the body's last piece and for the digest.
    uint64_t remaining_bytes = 0;
  };

  static Result<SnapshotFileWriter> open(const std::string& image_dir,
                                         const SnapshotDescription& description,
                                         size_t max_chunk_bytes = kSnapshotFileChunkDataBytes);

  // The next piece; nullopt after the digest. After an error every call returns it again.
  Result<std::optional<Piece>> next();

  // Everything before the digest, known from the start.
  [[nodiscard]] uint64_t body_bytes() const { return body_bytes_; }
  [[nodiscard]] uint64_t file_bytes() const { return body_bytes_ + kSha256Bytes; }

 private:
  SnapshotFileWriter(log::SnapshotSender sender, uint64_t body_bytes)
      : sender_(std::move(sender)), body_bytes_(body_bytes) {}
  Result<std::optional<Piece>> fail(Status status);

  log::SnapshotSender sender_;
  uint64_t body_bytes_;
  uint64_t produced_ = 0;  // body bytes so far
  bool digest_sent_ = false;
  Sha256 sha_;
  Status error_;  // sticky
};

// The whole file at `path` (replaced if it exists), for tests and tools.
Status write_snapshot_file(const std::string& image_dir, const SnapshotDescription& description,
                           const std::string& path,
                           size_t max_chunk_bytes = kSnapshotFileChunkDataBytes);

}  // namespace dengine::tools
