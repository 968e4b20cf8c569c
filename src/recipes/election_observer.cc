#include <deque>
#include <optional>
#include <utility>

#include "dengine/election.h"
#include "recipes/deadline.h"
#include "recipes/key_queue.h"
#include "recipes/timed_watch.h"

namespace dengine {

// etcd's observe loop as a state machine, so that a next() that times out resumes it.
struct ElectionObserver::State {
  enum class Phase : uint8_t {
    kFindLeader,      // read the oldest key under the prefix
    kAwaitCandidate,  // there was none: the first put under the prefix is the leader
    kFollowLeader,    // report the leader key's puts until it is deleted
  };

  State(KvClient& client, std::string key_prefix, std::shared_ptr<Clock> wait_clock)
      : kv(&client), prefix(std::move(key_prefix)), clock(std::move(wait_clock)) {}

  Status step(const recipes::Deadline& deadline) {
    switch (phase) {
      case Phase::kFindLeader: return find_leader();
      case Phase::kAwaitCandidate: return await_candidate(deadline);
      case Phase::kFollowLeader: return follow_leader(deadline);
    }
    return Status::internal("election observer: unknown phase");
  }

  Status find_leader() {
    Result<RangeResponse> oldest = kv->range(recipes::first_created(prefix));
    if (!oldest) return oldest.status();
    if (oldest->kvs.empty()) {
      watch.emplace(
          kv->watch_prefix(prefix, {.start_revision = oldest->revision + 1, .no_delete = true}));
      phase = Phase::kAwaitCandidate;
      return Status::ok();
    }
    follow(std::move(oldest->kvs.front()), oldest->revision + 1);
    return Status::ok();
  }

  Status await_candidate(const recipes::Deadline& deadline) {
    Result<WatchBatch> batch = watch->next(deadline);
    if (!batch) return batch.status();
    // Nothing was under the prefix, so the first key put there is the oldest.
    if (!batch->events.empty()) {
      KeyValue first = batch->events.front().kv;
      const int64_t seen = first.mod_revision;
      follow(std::move(first), seen + 1);
    }
    return Status::ok();
  }

  Status follow_leader(const recipes::Deadline& deadline) {
    Result<WatchBatch> batch = watch->next(deadline);
    if (!batch) return batch.status();
    for (Event& event : batch->events) {
      if (event.type == EventType::kDelete) {
        watch.reset();
        phase = Phase::kFindLeader;
        return Status::ok();
      }
      unseen.push_back(std::move(event.kv));  // a proclamation
    }
    return Status::ok();
  }

  // Reports `leader` and watches its key from `from_revision` on.
  void follow(KeyValue leader, int64_t from_revision) {
    watch.emplace(kv->watch(leader.key, {.start_revision = from_revision}));
    unseen.push_back(std::move(leader));
    phase = Phase::kFollowLeader;
  }

  KvClient* kv;
  std::string prefix;
  std::shared_ptr<Clock> clock;
  Phase phase = Phase::kFindLeader;
  std::optional<recipes::TimedWatch> watch;
  std::deque<KeyValue> unseen;  // leaders found, not yet returned by next()
  Status ended;                 // why the observation ended, once it has
};

ElectionObserver::ElectionObserver(KvClient& kv, std::string prefix, std::shared_ptr<Clock> clock)
    : state_(std::make_unique<State>(kv, std::move(prefix), std::move(clock))) {
  // Start at once, so that no change after observe() returns is missed. On a failure the
  // phase stays, and next() tries again and reports it.
  (void)state_->find_leader();
}

ElectionObserver::~ElectionObserver() = default;
ElectionObserver::ElectionObserver(ElectionObserver&&) noexcept = default;
ElectionObserver& ElectionObserver::operator=(ElectionObserver&&) noexcept = default;

Result<KeyValue> ElectionObserver::next(WaitOptions options) {
  if (!state_) return Status::failed_precondition("election observer: moved from");
  State& state = *state_;
  const recipes::Deadline deadline(state.clock, options);
  while (state.unseen.empty()) {
    if (!state.ended.is_ok()) return state.ended;
    Status stepped = state.step(deadline);
    if (stepped.is_ok()) continue;
    Status why = stepped.with_context("election observer: " + state.prefix);
    const bool gave_up =
        stepped.code() == StatusCode::kTimedOut || stepped.code() == StatusCode::kCancelled;
    if (!gave_up) state.ended = why;
    return why;
  }
  KeyValue leader = std::move(state.unseen.front());
  state.unseen.pop_front();
  return leader;
}

}  // namespace dengine
