#pragma once

// Election: leader election on a key prefix, with etcd clientv3/concurrency's Election
// semantics.
//
//   auto session = dengine::Session::create(engine.client());
//   dengine::Election election(**session, "elections/scheduler");
//   if (Status led = election.campaign("10.0.0.7:8080"); !led) { ... }
//   ... lead; election.proclaim("10.0.0.7:9090") to change the announced value ...
//   election.resign();
//
// Each candidate's session puts one key, <prefix>/<lease id in hex>, holding its value; the
// oldest key leads (the same queue as dengine/lock.h), and its value is the leader's. Anyone
// may read the leader (leader()) or follow it (observe()). As with a lock, leading only means
// the key was oldest: a session that lost its lease may still believe it leads, so actions
// that must come from the current leader are guarded by a txn on the key's create revision
// (proclaim does exactly that).
//
// An Election is used by one thread at a time. Destroying it does not resign.

#include <cstdint>
#include <memory>
#include <string>

#include "dengine/clock.h"
#include "dengine/kv_client.h"
#include "dengine/kv_types.h"
#include "dengine/session.h"
#include "dengine/status.h"

namespace dengine {

// The leader of an election each time it changes: a new leader, or a proclamation of the
// current one (etcd's Observe). Movable; may outlive the Election that made it, not its
// session's KvClient.
class ElectionObserver {
 public:
  ~ElectionObserver();
  ElectionObserver(ElectionObserver&&) noexcept;
  ElectionObserver& operator=(ElectionObserver&&) noexcept;

  // The leader's key (value, create revision...): first the one when observe() was called (or
  // the first one after, if there was none), then each change. Blocks while there is none.
  // kTimedOut or kCancelled per `options`, after which a later call resumes where this one stopped;
  // any other error (the history it needs was compacted, the engine stopped) ends the observation
  // and is returned again.
  Result<KeyValue> next(WaitOptions options = {});

 private:
  friend class Election;
  struct State;
  ElectionObserver(KvClient& kv, std::string prefix, std::shared_ptr<Clock> clock);
  std::unique_ptr<State> state_;
};

class Election {
 public:
  // The candidates' keys go under `prefix` + "/" (etcd's NewElection).
  Election(Session& session, std::string prefix);
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;
  Election(Election&&) noexcept = default;
  Election& operator=(Election&&) noexcept = default;

  // Blocks until this session leads, announcing `value` (a session that already campaigned
  // keeps its place in line and updates its value). Errors: kTimedOut or kCancelled
  // (`options`; the candidacy is withdrawn), kAborted when the session's key vanished while it
  // waited (its lease expired or was revoked), or the engine's.
  Status campaign(std::string value, WaitOptions options = {});
  // Changes the leader's value without a new election, if this session still leads (still
  // holds the key it campaigned with). kFailedPrecondition otherwise.
  Status proclaim(std::string value);
  // Deletes this session's key, so the next candidate leads. OK when not leading.
  Status resign();

  // The current leader's key and value, whoever it is. kNotFound while there is none.
  Result<KeyValue> leader();
  // Follows the leader from now on: each new leader and each of its proclamations. As with
  // etcd's Observe the latest leader is always reported, but one that came and went while the
  // observer looked for the next may be skipped.
  ElectionObserver observe();

  // Whether campaign() succeeded and neither resign() nor a failed proclaim() followed.
  [[nodiscard]] bool leading() const { return leading_; }
  // This session's key, and its create revision while it is a candidate (0 otherwise).
  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] int64_t revision() const { return create_revision_; }

 private:
  // Puts `value` on our key only if it is still the generation we campaigned with.
  Result<bool> update_value(const std::string& value);
  // Forgets the candidacy without touching the key.
  void forget();

  Session* session_;
  std::string prefix_;  // with the trailing "/"
  std::string key_;
  int64_t create_revision_ = 0;  // of our key in the queue; 0: not a candidate
  bool leading_ = false;
};

}  // namespace dengine
