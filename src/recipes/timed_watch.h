#pragma once

// A Watch whose next() gives up at a Deadline without losing what it asked for: the request
// stays in flight, and the following next() takes its answer (a Watch serves one next() at a
// time, so a second request would be refused).

#include <memory>
#include <optional>

#include "dengine/status.h"
#include "dengine/watch.h"
#include "recipes/deadline.h"

namespace dengine::recipes {

class TimedWatch {
 public:
  explicit TimedWatch(Watch watch) : watch_(std::move(watch)) {}

  // The watch's next batch, why it ended, or the deadline's kTimedOut / kCancelled.
  Result<WatchBatch> next(const Deadline& deadline);

 private:
  // Outlives the TimedWatch if the engine answers after it is gone.
  struct InFlight {
    Wakeup wakeup;
    std::optional<Result<WatchBatch>> answer;  // guarded by wakeup.mutex
  };

  Watch watch_;
  std::shared_ptr<InFlight> in_flight_;  // null while no request is outstanding
};

}  // namespace dengine::recipes
