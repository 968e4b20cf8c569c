// Stopping the runtime (RaftRuntime): the loop ends, the workers finish, and every request
// still waiting, or still arriving from callers admitted before the stop, is answered with why.

#include <chrono>
#include <mutex>
#include <type_traits>
#include <variant>
#include <vector>

#include "runtime/raft_runtime.h"

namespace dengine::runtime {

Status RaftRuntime::engine_stopped() {
  return Status::unavailable("engine stopped; a write in flight may still have been committed");
}

void RaftRuntime::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!core_thread_.joinable()) return;
  queue_.push(StopInput{});
  core_thread_.join();
}

void RaftRuntime::shut_down() {
  const Status why = fatal_.is_ok() ? engine_stopped() : fatal_;
  {
    // Before stopped_: a caller refused from now on is told why (refusal_after_stop).
    std::lock_guard lock(status_mutex_);
    status_.fatal = fatal_;
  }
  stopped_.store(true, std::memory_order_release);
  clock_->remove_listener(clock_listener_);
  lessor_.demote();
  keep_alives_.stop(why);
  transport_->cancel_sends();
  if (snapshot_shipper_) snapshot_shipper_->stop();
  if (std::optional<StorageWrite> last = wal_submitter_.take_final_write()) {
    wal_worker_->submit(std::move(*last));
  }
  wal_worker_->stop();
  apply_worker_->stop(why);
  for (auto& [index, proposal] : proposals_) proposal.done(why);
  proposals_.clear();
  for (auto& [round, reads] : read_rounds_) {
    for (PendingRead& read : reads) read.fail(why);
  }
  read_rounds_.clear();
  drain_after_stop(why);
  std::lock_guard lock(status_mutex_);
  status_.stopped = true;
  status_.ready = false;
  status_.leader = kNoNode;
  status_.fatal = fatal_;
  status_changed_.notify_all();
}

Status RaftRuntime::refusal_after_stop() const {
  std::lock_guard lock(status_mutex_);
  if (status_.fatal.is_ok()) return engine_stopped();
  return Status::unavailable("engine stopped: " + status_.fatal.message());
}

// Callers that were admitted before `stopped_` was set may still be pushing: answer every
// request until none is in flight, so no completion is ever lost.
void RaftRuntime::drain_after_stop(const Status& why) {
  std::vector<CoreInput> inputs(options_.max_inputs_per_round);
  while (true) {
    const size_t count = queue_.pop_bulk(inputs, std::chrono::milliseconds(1));
    for (size_t i = 0; i < count; ++i) {
      std::visit(
          [&](auto& in) {
            using T = std::decay_t<decltype(in)>;
            if constexpr (std::is_same_v<T, ProposeInput>) {
              in.done(why);
            } else if constexpr (std::is_same_v<T, ReadInput>) {
              in.read.fail(why);
            } else if constexpr (std::is_same_v<T, CoreTaskInput>) {
              in.task(why);
            }
          },
          inputs[i]);
      inputs[i] = WakeInput{};
    }
    if (count == 0 && admission_.in_flight() == 0) return;
  }
}

}  // namespace dengine::runtime
