#pragma once

// Where an engine's time comes from (docs/architecture.md §9). Ticks, lease expiry and lease reads
// all read one Clock, so that tests drive an engine on a ManualClock: fast, repeatable, free of
// sleeps.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace dengine {

class Clock {
 public:
  virtual ~Clock() = default;
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // Monotonic nanoseconds. Never goes back.
  [[nodiscard]] virtual uint64_t now_nanos() const = 0;
  // How long a thread must sleep, in real time, until now_nanos() reaches `deadline_nanos`
  // (zero when it has); nullopt for a clock that moves only when told to, whose sleepers are
  // woken through their listeners instead.
  [[nodiscard]] virtual std::optional<std::chrono::nanoseconds> real_time_until(
      uint64_t deadline_nanos) const = 0;
  // `on_move` runs after every move of a clock that moves only when told to (never for the
  // real clock). It must be quick and must not call back into the clock. Returns an id for
  // remove_listener, after which it is never called again.
  virtual uint64_t add_listener(std::function<void()> on_move) = 0;
  virtual void remove_listener(uint64_t id) = 0;
};

// CLOCK_MONOTONIC (std::chrono::steady_clock).
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] uint64_t now_nanos() const override;
  [[nodiscard]] std::optional<std::chrono::nanoseconds> real_time_until(
      uint64_t deadline_nanos) const override;
  uint64_t add_listener(std::function<void()> /*on_move*/) override { return 0; }
  void remove_listener(uint64_t /*id*/) override {}
};

// The process-wide real clock.
std::shared_ptr<Clock> steady_clock();

// A clock that stands still until advance() is called: engine tests step time explicitly.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_nanos = 1'000'000'000) : now_(start_nanos) {}

  void advance(std::chrono::nanoseconds by);

  [[nodiscard]] uint64_t now_nanos() const override { return now_.load(std::memory_order_acquire); }
  [[nodiscard]] std::optional<std::chrono::nanoseconds> real_time_until(
      uint64_t deadline_nanos) const override;
  uint64_t add_listener(std::function<void()> on_move) override;
  void remove_listener(uint64_t id) override;

 private:
  std::atomic<uint64_t> now_;
  // Held while listeners run, so that remove_listener() returning means "never again".
  std::mutex listeners_mutex_;
  std::map<uint64_t, std::function<void()>> listeners_;
  uint64_t next_listener_id_ = 1;
};

}  // namespace dengine
