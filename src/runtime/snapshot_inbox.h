#pragma once

// A follower's side of snapshot transfer: receives a leader's image, chunk by chunk, from the
// transport (log/snapshot_receiver.h), and keeps the newest complete one until the core acts
// on the kSnapshot message that follows it.
//
//   <dir>/in/snapshot.tmp-<id>/   a transfer in progress (garbage after a crash)
//   <dir>/in/image-<index>/       received whole, durably; named by its index so that a restart
//                                 finds the image its compaction record announces
//
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "log/snapshot_receiver.h"
#include "runtime/apply_worker.h"

namespace dengine::runtime {

class SnapshotInbox {
 public:
  explicit SnapshotInbox(std::string dir) : dir_(std::move(dir)) {}

  // One chunk of a stream. A new stream replaces one that stopped midway (its sender died or
  // gave up); a complete image replaces the one held before.
  Status accept(std::string_view chunk);
  // Whether the image `meta` describes is here, whole.
  [[nodiscard]] bool holds(const SnapshotMeta& meta);
  // Hands the image over to be installed; nullopt when it is not here.
  std::optional<ImageToInstall> take(const SnapshotMeta& meta);

  // Where the image received at `index` is kept.
  static std::string image_dir(const std::string& dir, Index index);

 private:
  Status accept_locked(std::string_view chunk);
  Status keep_locked(const log::InstalledSnapshot& installed);
  [[nodiscard]] bool holds_locked(const SnapshotMeta& meta) const;

  std::string dir_;
  std::mutex mutex_;
  std::optional<log::SnapshotReceiver> receiver_;
  std::optional<ImageToInstall> held_;
};

}  // namespace dengine::runtime
