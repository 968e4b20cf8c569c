#pragma once

// When a recipe's blocking wait gives up (WaitOptions): a deadline on the session's clock and a
// stop token. A waiting thread sleeps on a condition variable that its answer, the clock and
// the stop request all wake: the real clock by a timed wait, a ManualClock through its
// listener, so tests time out recipes without sleeping.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>

#include "dengine/clock.h"
#include "dengine/session.h"
#include "dengine/status.h"

namespace dengine::recipes {

// Where a waiting thread sleeps, shared with whoever may wake it.
struct Wakeup {
  std::mutex mutex;
  std::condition_variable changed;

  void notify() {
    std::lock_guard lock(mutex);
    changed.notify_all();
  }
};

class Deadline {
 public:
  // The timeout counts from here.
  Deadline(std::shared_ptr<Clock> clock, const WaitOptions& options);

  // OK while time remains and no stop was requested; kTimedOut or kCancelled otherwise.
  [[nodiscard]] Status check() const;
  // Blocks until `ready()` (checked under wakeup.mutex, which its writer must hold) or until
  // check() fails; check()'s error then. `ready` wins over an expired deadline.
  Status wait(Wakeup& wakeup, const std::function<bool()>& ready) const;

 private:
  std::shared_ptr<Clock> clock_;
  std::optional<std::chrono::milliseconds> timeout_;
  std::optional<uint64_t> deadline_nanos_;
  std::stop_token stop_;
};

}  // namespace dengine::recipes
