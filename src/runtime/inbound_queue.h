#pragma once

// The core thread's inbound queue: many producers (callers, workers, peers, the clock), one
// consumer. moodycamel's blocking queue is lock-free on the fast path and FIFO per producer;
// its size is approximate, so load is bounded by an explicit counter (Admission), not by it.

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "runtime/core_input.h"

namespace dengine::runtime {

class InboundQueue {
 public:
  void push(CoreInput input) { queue_.enqueue(std::move(input)); }

  // Moves up to out.size() inputs into `out`, waiting up to `timeout` (forever when nullopt)
  // for the first one. Returns how many arrived.
  size_t pop_bulk(std::vector<CoreInput>& out, std::optional<std::chrono::nanoseconds> timeout) {
    if (!timeout) return queue_.wait_dequeue_bulk(out.begin(), out.size());
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(*timeout).count();
    return queue_.wait_dequeue_bulk_timed(out.begin(), out.size(), micros);
  }

 private:
  moodycamel::BlockingConcurrentQueue<CoreInput> queue_;
};

}  // namespace dengine::runtime
