#pragma once

// Watch: an ordered stream of the changes to a key, a prefix or a range (etcd's Watch).
//
//   Watch watch = kv.watch_prefix("config/", {.start_revision = 42});
//   while (true) {
//     Result<WatchBatch> batch = watch.next();    // blocks; or async_next(token)
//     if (!batch) break;                          // compacted, cancelled, engine stopped
//     for (const Event& event : batch->events) { ... }
//   }
//
// Every event is delivered once, in revision order; a batch holds whole revisions (a txn's
// writes always arrive together). A consumer that falls behind never slows the engine: once
// its buffer is full the watch stops taking live events and later catches up from the
// store's history. If that history was compacted meanwhile, or the start revision already
// was, the watch ends with ErrorDetail::kCompacted and compact_revision() tells from where the
// history is still available (etcd's "compacted at N").

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <asio/async_result.hpp>

#include "dengine/completion.h"
#include "dengine/kv_types.h"
#include "dengine/status.h"
#include "dengine/unique_function.h"

namespace dengine {

struct WatchOptions {
  // The first revision wanted; <= 0: every change applied after the call that creates the
  // watch returns (its node's revision then, plus one).
  int64_t start_revision = 0;
  // Each event carries the key's previous value when it had one.
  bool prev_kv = false;
  // etcd's filters: leave out puts, or deletes.
  bool no_put = false;
  bool no_delete = false;
  // Events buffered for the consumer before the watch falls back to catching up from
  // history. A single revision larger than this is still delivered whole.
  size_t buffer_events = 4096;
};

struct WatchBatch {
  // Whole revisions, in order. Empty only in a progress batch (Watch::request_progress).
  std::vector<Event> events;
  // The store revision the watch has seen up to (etcd's header revision).
  int64_t revision = 0;
};

namespace detail {

// The engine's side of one watch.
class WatchChannel {
 public:
  virtual ~WatchChannel() = default;
  // Hands `done` the next batch once there is one, or why the watch ended. One call at a
  // time: a second one while the first waits fails with kFailedPrecondition.
  virtual void next(UniqueFunction<void(Result<WatchBatch>)> done) = 0;
  // The next batch if one is buffered, or why the watch ended; nullopt otherwise.
  virtual std::optional<Result<WatchBatch>> poll() = 0;
  virtual void cancel() = 0;
  virtual void request_progress() = 0;
  [[nodiscard]] virtual int64_t compact_revision() const = 0;
};

}  // namespace detail

// Movable handle of one watch; destroying it cancels the watch.
class Watch {
 public:
  explicit Watch(std::shared_ptr<detail::WatchChannel> channel) : channel_(std::move(channel)) {}
  ~Watch() { cancel(); }
  Watch(Watch&&) noexcept = default;
  Watch& operator=(Watch&& other) noexcept {
    if (this != &other) {
      cancel();
      channel_ = std::move(other.channel_);
    }
    return *this;
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Blocks until a batch is ready or the watch ends (the error says why: ErrorDetail::kCompacted,
  // kCancelled, kUnavailable when the engine stopped).
  Result<WatchBatch> next() {
    if (!channel_) return Status::cancelled("watch: cancelled");
    detail::Blocking<WatchBatch> blocking;
    channel_->next(blocking.completion());
    return blocking.wait();
  }
  // The next batch if one is ready, or why the watch ended; nullopt while nothing is ready.
  std::optional<Result<WatchBatch>> poll() {
    if (!channel_) return Result<WatchBatch>(Status::cancelled("watch: cancelled"));
    return channel_->poll();
  }
  // Token signature void(Result<WatchBatch>).
  template <typename Token>
  auto async_next(Token&& token) {
    return asio::async_initiate<Token, void(Result<WatchBatch>)>(
        [channel = channel_](auto handler) {
          auto done = detail::make_completion<WatchBatch>(std::move(handler));
          if (!channel) return done(Status::cancelled("watch: cancelled"));
          channel->next(std::move(done));
        },
        token);
  }
  // etcd's progress notification: once the watch has every revision up to the store's, it
  // gets a batch without events carrying the store's revision, in order with its events (so
  // nothing at or below that revision is still to come). Nothing comes while it is catching
  // up or its buffer is full: ask again later.
  void request_progress() {
    if (channel_) channel_->request_progress();
  }
  // Ends the watch; a next() waiting gets kCancelled. Idempotent.
  void cancel() {
    if (channel_) channel_->cancel();
  }
  // After the watch ended as compacted: the oldest revision still available.
  [[nodiscard]] int64_t compact_revision() const {
    return channel_ ? channel_->compact_revision() : 0;
  }

 private:
  std::shared_ptr<detail::WatchChannel> channel_;
};

}  // namespace dengine
