#pragma once

// Sends the leader's state machine image to followers its log was compacted past (the core's
// kSnapshot messages), on a thread of its own: writing an image (a RocksDB checkpoint) and
// streaming it take far longer than one round of the core loop.
//
// The image is written when it is sent, from the state as applied then, and the message is
// rewritten to describe it: a follower installs a recent image rather than the one the core
// last compacted behind, and its log continues right after the image's index.

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "raft/raft_message.h"
#include "runtime/transport.h"
#include "runtime/worker_thread.h"

namespace dengine::runtime {

class SnapshotShipper {
 public:
  // Writes the image into a directory that does not exist yet and describes it.
  using WriteImage = std::function<Result<SnapshotMeta>(const std::string& dir)>;
  // The image did not reach `to` (called on the shipper's thread).
  using Failed = std::function<void(NodeId to, const Status& why)>;

  // Images are written under `dir` (created if missing); `transport` must outlive the shipper.
  SnapshotShipper(std::string dir, Transport& transport, WriteImage write_image, Failed failed);
  ~SnapshotShipper();
  SnapshotShipper(const SnapshotShipper&) = delete;
  SnapshotShipper& operator=(const SnapshotShipper&) = delete;

  // Core thread: sends an image for the kSnapshot `message`, unless one is already on its way
  // to the same peer (the core asks again if that one fails).
  void ship(Message message);
  // Abandons what has not started, finishes what has, and stops the thread. Idempotent.
  void stop();
  // Images that reached a peer whole, so far.
  [[nodiscard]] uint64_t images_sent() const { return images_sent_.load(); }
  // Why the last image that did not reach its peer failed (ok: none has failed). The core only
  // learns that it failed, and probes the follower again.
  [[nodiscard]] Status last_failure() const;

 private:
  void send(Message message, const std::string& image_dir);

  std::string dir_;
  Transport& transport_;
  WriteImage write_image_;
  Failed failed_;

  mutable std::mutex mutex_;
  std::set<NodeId> in_flight_;
  uint64_t next_image_ = 0;
  bool stopping_ = false;
  Status last_failure_;
  std::atomic<uint64_t> images_sent_{0};

  WorkerThread thread_{
      "dengine-ship"};  // last: it starts after, and stops before, everything it uses
};

}  // namespace dengine::runtime
