#include "recipes/deadline.h"

#include <algorithm>
#include <string>
#include <utility>

namespace dengine::recipes {

Deadline::Deadline(std::shared_ptr<Clock> clock, const WaitOptions& options)
    : clock_(std::move(clock)), timeout_(options.timeout), stop_(options.stop) {
  if (timeout_) {
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(*timeout_).count();
    deadline_nanos_ = clock_->now_nanos() + static_cast<uint64_t>(std::max<int64_t>(nanos, 0));
  }
}

Status Deadline::check() const {
  if (stop_.stop_requested()) return Status::cancelled("cancelled by a stop request");
  if (deadline_nanos_ && clock_->now_nanos() >= *deadline_nanos_) {
    return Status::timed_out("timed out after " + std::to_string(timeout_->count()) + " ms");
  }
  return Status::ok();
}

Status Deadline::wait(Wakeup& wakeup, const std::function<bool()>& ready) const {
  // A ManualClock moves only when told to: its listener wakes us to look at the deadline.
  // Registered before the mutex is taken, because the clock holds its own lock while calling
  // listeners and they take ours.
  std::optional<uint64_t> listener;
  if (deadline_nanos_) listener = clock_->add_listener([&wakeup] { wakeup.notify(); });
  Status result;
  {
    // Runs at once (taking wakeup.mutex) if a stop was already requested: before the lock.
    std::stop_callback on_stop(stop_, [&wakeup] { wakeup.notify(); });
    std::unique_lock lock(wakeup.mutex);
    while (!ready()) {
      result = check();
      if (!result) break;
      std::optional<std::chrono::nanoseconds> real_time_left;
      if (deadline_nanos_) real_time_left = clock_->real_time_until(*deadline_nanos_);
      if (real_time_left) {
        wakeup.changed.wait_for(lock, *real_time_left);
      } else {
        wakeup.changed.wait(lock);
      }
    }
  }  // the lock goes before on_stop, whose destructor waits for a running callback
  if (listener) clock_->remove_listener(*listener);
  return result;
}

}  // namespace dengine::recipes
