#include "recipes/timed_watch.h"

#include <utility>

namespace dengine::recipes {

Result<WatchBatch> TimedWatch::next(const Deadline& deadline) {
  if (!in_flight_) {
    in_flight_ = std::make_shared<InFlight>();
    watch_.async_next([in_flight = in_flight_](Result<WatchBatch> answer) {
      std::lock_guard lock(in_flight->wakeup.mutex);
      in_flight->answer.emplace(std::move(answer));
      in_flight->wakeup.changed.notify_all();
    });
  }
  InFlight& request = *in_flight_;
  Status waited = deadline.wait(request.wakeup, [&request] { return request.answer.has_value(); });
  if (!waited) return waited;
  std::shared_ptr<InFlight> answered = std::move(in_flight_);
  std::lock_guard lock(answered->wakeup.mutex);
  return std::move(*answered->answer);
}

}  // namespace dengine::recipes
