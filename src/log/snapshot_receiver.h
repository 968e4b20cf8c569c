#pragma once

// Receives a snapshot stream (snapshot_chunk.h) from a SnapshotSender and installs it as a
// directory under `root`, atomically: a half-received snapshot is never used.
//
//   <root>/snapshot.tmp-<id>/   staging: the files as they arrive
//   <root>/snapshot-<id>/       installed (or the caller's final_dir_name)
//
// Install, on the end chunk, once the counts and the whole-stream checksum match: every file
// synced, the staging directory synced, renamed to the final name, and `root` synced. A final
// directory therefore only ever exists complete, across crashes and power cuts; a staging
// directory is garbage whenever no receiver is using it, and open() removes it.
//
// A chunk that is rejected (a bad checksum, another snapshot's chunk, a duplicate or a chunk
// out of order, a file out of order) changes nothing: the sender may send the right one. A
// failure of the file system, or an end chunk that does not match what arrived, ends the
// transfer and removes the staging directory. A failed sync is reported, never retried.
//
// Not thread-safe: one caller at a time, and one receiver per root.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/status.h"
#include "log/file_system.h"
#include "log/snapshot_chunk.h"

namespace dengine::log {

inline constexpr std::string_view kSnapshotStagingPrefix = "snapshot.tmp-";

struct SnapshotReceiverOptions {
  // The installed directory's name in root; empty: "snapshot-<id as 16 hex digits>". A plain
  // name, not starting with kSnapshotStagingPrefix. An existing directory of that name is
  // never replaced: its snapshot is refused.
  std::string final_dir_name{};
  // The largest snapshot accepted (its begin chunk's total bytes).
  uint64_t max_snapshot_bytes = uint64_t{1} << 40;
};

struct InstalledSnapshot {
  uint64_t snapshot_id = 0;
  std::string path;      // the final directory
  std::string metadata;  // from the begin chunk, as the sender's caller gave it
  uint32_t file_count = 0;
  uint64_t total_bytes = 0;
};

class SnapshotReceiver {
 public:
  // Creates `root` if missing and removes the staging directories an earlier process left
  // there (it died mid-transfer); removed_staging_dirs() names them.
  static Result<SnapshotReceiver> open(std::shared_ptr<FileSystem> fs, std::string root,
                                       SnapshotReceiverOptions options = {});

  SnapshotReceiver(SnapshotReceiver&&) noexcept;
  SnapshotReceiver& operator=(SnapshotReceiver&&) noexcept;
  ~SnapshotReceiver();

  // Verifies the chunk and takes it: nullopt while the stream goes on, the installed snapshot
  // for its end chunk. Errors name the chunk and what was expected instead.
  Result<std::optional<InstalledSnapshot>> accept(std::string_view encoded_chunk);

  // Drops the transfer in progress, if any, and removes its staging directory.
  Status abort();

  [[nodiscard]] bool receiving() const { return transfer_ != nullptr; }
  // Of the transfer in progress (receiving()).
  [[nodiscard]] uint64_t snapshot_id() const;
  [[nodiscard]] uint64_t next_sequence() const;
  [[nodiscard]] const std::vector<std::string>& removed_staging_dirs() const {
    return removed_staging_dirs_;
  }

 private:
  struct Transfer;

  SnapshotReceiver(std::shared_ptr<FileSystem> fs, std::string root,
                   SnapshotReceiverOptions options);
  Status begin(const SnapshotChunk& chunk);
  Status take_file_data(const SnapshotChunk& chunk);
  Result<InstalledSnapshot> finish(const SnapshotChunk& chunk);
  Status install();
  // Ends the transfer after `cause`, removing the staging directory; returns `cause`, with
  // the cleanup's failure if it failed too.
  Status fail(const Status& cause);

  std::shared_ptr<FileSystem> fs_;
  std::string root_;
  SnapshotReceiverOptions options_;
  std::unique_ptr<Transfer> transfer_;
  std::vector<std::string> removed_staging_dirs_;
};

// The staging directory's name for a snapshot: "snapshot.tmp-000000000000002a".
std::string snapshot_staging_dir_name(uint64_t snapshot_id);
// The default final name: "snapshot-000000000000002a".
std::string snapshot_dir_name(uint64_t snapshot_id);

}  // namespace dengine::log
