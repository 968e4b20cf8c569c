#pragma once

// The core thread's inbound queue: many producers (callers, workers, peers, the clock), one
// consumer. moodycamel's queue is lock-free on the fast path and FIFO per producer; its size is
// approximate, so load is bounded by an explicit counter (Admission), not by it.
//
// This is moodycamel's BlockingConcurrentQueue taken apart, so that how long the core spins
// before it sleeps is chosen when the engine starts: spinning keeps the core awake for the next
// input, but on a machine with two CPUs it takes one of them from the WAL or apply thread that
// is about to hand it that input (a sequential put lost ~15 us to the spin on a 2-vCPU VM).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include "runtime/core_input.h"

namespace dengine::runtime {

class InboundQueue {
 public:
  // moodycamel's default spin where there are CPUs to spare, none where there are not.
  static int default_spins() { return std::thread::hardware_concurrency() > 2 ? 10'000 : 0; }

  explicit InboundQueue(int spins = default_spins()) : ready_(0, spins) {}

  void push(CoreInput input) {
    queue_.enqueue(std::move(input));
    ready_.signal();
  }

  // Moves up to out.size() inputs into `out`, waiting up to `timeout` (forever when nullopt)
  // for the first one. Returns how many arrived.
  size_t pop_bulk(std::vector<CoreInput>& out, std::optional<std::chrono::nanoseconds> timeout) {
    using Count = moodycamel::LightweightSemaphore::ssize_t;
    const auto wanted = static_cast<Count>(out.size());
    const Count granted =
        timeout
            ? ready_.waitMany(
                  wanted, std::chrono::duration_cast<std::chrono::microseconds>(*timeout).count())
            : ready_.waitMany(wanted);
    // Each signal follows its enqueue, so every granted input is in the queue or about to be.
    size_t taken = 0;
    while (taken != static_cast<size_t>(granted)) {
      taken += queue_.try_dequeue_bulk(out.begin() + static_cast<ptrdiff_t>(taken),
                                       static_cast<size_t>(granted) - taken);
    }
    return taken;
  }

 private:
  moodycamel::ConcurrentQueue<CoreInput> queue_;
  moodycamel::LightweightSemaphore ready_;
};

}  // namespace dengine::runtime
