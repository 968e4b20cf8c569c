#include "dengine/clock.h"

namespace dengine {

uint64_t SteadyClock::now_nanos() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::optional<std::chrono::nanoseconds> SteadyClock::real_time_until(
    uint64_t deadline_nanos) const {
  const uint64_t now = now_nanos();
  if (deadline_nanos <= now) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(deadline_nanos - now);
}

std::shared_ptr<Clock> steady_clock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SteadyClock>();
  return clock;
}

void ManualClock::advance(std::chrono::nanoseconds by) {
  std::lock_guard lock(listeners_mutex_);
  if (by.count() > 0) now_.fetch_add(static_cast<uint64_t>(by.count()), std::memory_order_acq_rel);
  for (auto& [id, on_move] : listeners_) on_move();
}

std::optional<std::chrono::nanoseconds> ManualClock::real_time_until(
    uint64_t deadline_nanos) const {
  if (deadline_nanos <= now_nanos()) return std::chrono::nanoseconds(0);
  return std::nullopt;
}

uint64_t ManualClock::add_listener(std::function<void()> on_move) {
  std::lock_guard lock(listeners_mutex_);
  const uint64_t id = next_listener_id_++;
  listeners_.emplace(id, std::move(on_move));
  return id;
}

void ManualClock::remove_listener(uint64_t id) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(id);
}

}  // namespace dengine
