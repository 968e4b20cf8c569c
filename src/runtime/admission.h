#pragma once

// Back-pressure: callers' requests in flight (queued, in the log, or waiting to be applied or
// served) are bounded by an explicit counter. Past the bound a request is refused at once with
// an "overloaded" error instead of growing queues without limit.

#include <atomic>
#include <cstddef>
#include <string>

#include "dengine/status.h"

namespace dengine::runtime {

class Admission {
 public:
  explicit Admission(size_t max_in_flight) : max_in_flight_(max_in_flight) {}

  // Takes one slot, or explains why not.
  Status try_admit() {
    if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= max_in_flight_) {
      in_flight_.fetch_sub(1, std::memory_order_acq_rel);
      return Status::resource_exhausted("engine overloaded: " + std::to_string(max_in_flight_) +
                                        " requests already in flight (max_in_flight_requests)");
    }
    return Status::ok();
  }
  void release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }
  [[nodiscard]] size_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }

 private:
  const size_t max_in_flight_;
  std::atomic<size_t> in_flight_{0};
};

}  // namespace dengine::runtime
