#pragma once

// One watch's bounded buffer between its producer, which fills it, and the consumer, which
// drains it through a Watch handle. The producer never waits on it: when it is full, the
// engine's watch hub stops offering live events and later catches the watch up from history,
// and the remote client stops reading the watch's stream until the consumer has made room.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "dengine/watch.h"

namespace dengine::kv_client {

// What a channel's consumer asks of its producer (the hub).
enum class WatchNotice : uint8_t {
  kResume,    // room was made: catch up
  kCancel,    // drop the watch
  kProgress,  // offer a progress batch if synced
};

// How a channel reaches its hub from the consumer's thread; cut when the hub stops, so a
// Watch handle may outlive its engine (or its remote client).
class WatchHubLink {
 public:
  using Notify = UniqueFunction<void(uint64_t watch_id, WatchNotice notice)>;

  explicit WatchHubLink(Notify notify) : notify_(std::move(notify)) {}
  void notify(uint64_t watch_id, WatchNotice notice) {
    std::lock_guard lock(mutex_);
    if (notify_) notify_(watch_id, notice);
  }
  void cut() {
    std::lock_guard lock(mutex_);
    notify_ = nullptr;
  }

 private:
  std::mutex mutex_;
  Notify notify_;
};

class WatchChannelImpl final : public detail::WatchChannel {
 public:
  WatchChannelImpl(uint64_t id, size_t capacity, std::shared_ptr<WatchHubLink> link)
      : id_(id), capacity_(capacity == 0 ? 1 : capacity), link_(std::move(link)) {}

  // ---- the consumer ----
  void next(UniqueFunction<void(Result<WatchBatch>)> done) override;
  std::optional<Result<WatchBatch>> poll() override;
  void cancel() override;
  void request_progress() override;
  [[nodiscard]] int64_t compact_revision() const override;

  // ---- the hub (the engine's apply worker, or the remote client's stream reader) ----
  // Adds `batch` if there is room for it (always when the buffer is empty); false otherwise,
  // and the channel then asks the hub to resume it once the consumer has made room.
  bool offer(WatchBatch batch);
  // Whether a batch of `events` events would be taken now. When not, the channel asks the hub
  // to resume it once the consumer has made room.
  bool has_room_for(size_t events);
  // Ends the watch: the consumer gets what is buffered, then `why`.
  void end(Status why, int64_t compact_revision = 0);
  [[nodiscard]] uint64_t id() const { return id_; }

 private:
  // Takes everything buffered as one batch (whole revisions, in order). Holds mutex_.
  WatchBatch take_locked();

  const uint64_t id_;
  const size_t capacity_;
  const std::shared_ptr<WatchHubLink> link_;

  mutable std::mutex mutex_;
  std::deque<WatchBatch> batches_;
  size_t buffered_events_ = 0;
  bool refused_ = false;  // an offer was refused: resume the hub once there is room
  std::optional<Status> ended_;
  int64_t compact_revision_ = 0;
  UniqueFunction<void(Result<WatchBatch>)> waiting_;
};

}  // namespace dengine::kv_client
