#include "kv_client/watch_channel.h"

#include <iterator>

namespace dengine::kv_client {

WatchBatch WatchChannelImpl::take_locked() {
  WatchBatch taken = std::move(batches_.front());
  batches_.pop_front();
  while (!batches_.empty()) {
    WatchBatch& more = batches_.front();
    taken.events.insert(taken.events.end(), std::make_move_iterator(more.events.begin()),
                        std::make_move_iterator(more.events.end()));
    taken.revision = more.revision;
    batches_.pop_front();
  }
  buffered_events_ = 0;
  return taken;
}

void WatchChannelImpl::next(UniqueFunction<void(Result<WatchBatch>)> done) {
  std::optional<Result<WatchBatch>> ready;
  bool resume = false;
  {
    std::lock_guard lock(mutex_);
    if (waiting_) {
      ready.emplace(Status::failed_precondition(
          "watch: next() called while another next() is still waiting"));
    } else if (!batches_.empty()) {
      ready.emplace(take_locked());
      resume = std::exchange(refused_, false);
    } else if (ended_) {
      ready.emplace(*ended_);
    } else {
      waiting_ = std::move(done);
      return;
    }
  }
  if (resume) link_->notify(id_, WatchNotice::kResume);
  done(std::move(*ready));
}

std::optional<Result<WatchBatch>> WatchChannelImpl::poll() {
  std::optional<Result<WatchBatch>> ready;
  bool resume = false;
  {
    std::lock_guard lock(mutex_);
    if (!batches_.empty()) {
      ready.emplace(take_locked());
      resume = std::exchange(refused_, false);
    } else if (ended_) {
      ready.emplace(*ended_);
    }
  }
  if (resume) link_->notify(id_, WatchNotice::kResume);
  return ready;
}

void WatchChannelImpl::cancel() {
  UniqueFunction<void(Result<WatchBatch>)> waiting;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = Status::cancelled("watch: cancelled");
    batches_.clear();
    buffered_events_ = 0;
    waiting = std::move(waiting_);
  }
  link_->notify(id_, WatchNotice::kCancel);
  if (waiting) waiting(Status::cancelled("watch: cancelled"));
}

void WatchChannelImpl::request_progress() {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
  }
  link_->notify(id_, WatchNotice::kProgress);
}

int64_t WatchChannelImpl::compact_revision() const {
  std::lock_guard lock(mutex_);
  return compact_revision_;
}

bool WatchChannelImpl::has_room_for(size_t events) {
  std::lock_guard lock(mutex_);
  if (ended_ || buffered_events_ == 0 || buffered_events_ + events <= capacity_) return true;
  refused_ = true;
  return false;
}

bool WatchChannelImpl::offer(WatchBatch batch) {
  UniqueFunction<void(Result<WatchBatch>)> waiting;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return true;  // nobody will read it: as good as delivered
    if (buffered_events_ != 0 && buffered_events_ + batch.events.size() > capacity_) {
      refused_ = true;
      return false;
    }
    if (waiting_) {
      waiting = std::move(waiting_);
    } else {
      buffered_events_ += batch.events.size();
      batches_.push_back(std::move(batch));
      return true;
    }
  }
  waiting(std::move(batch));
  return true;
}

void WatchChannelImpl::end(Status why, int64_t compact_revision) {
  UniqueFunction<void(Result<WatchBatch>)> waiting;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = why;
    compact_revision_ = compact_revision;
    if (batches_.empty()) waiting = std::move(waiting_);
  }
  if (waiting) waiting(std::move(why));
}

}  // namespace dengine::kv_client
