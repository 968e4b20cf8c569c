#pragma once

// EmbeddedEngine: a Raft node inside the caller's process (docs/architecture.md §1, §4).
//
//   auto started = dengine::EmbeddedEngine::start("./data");
//   if (!started) { /* started.status().message() says why */ }
//   dengine::EmbeddedEngine& engine = **started;
//   engine.wait_ready(std::chrono::seconds(5));
//   engine.client().put("hello", "world");
//
// A single node needs no configuration and leads as soon as it starts. Restarting on the same
// data_dir recovers every acknowledged write. No exception crosses this API.

#include <chrono>
#include <memory>
#include <string>

#include "dengine/engine_options.h"
#include "dengine/entry.h"
#include "dengine/kv_client.h"
#include "dengine/membership.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine {

namespace runtime {  // the library's internals (src/runtime/engine_internals.h)
class RaftRuntime;
struct PeerWiring;
class InternalKeys;

// A passkey: the members of EmbeddedEngine that take one are for the library's own wiring
// (dengine-server, the tests), which alone can make it (src/runtime/engine_internals.h).
class InternalKey {
  InternalKey() = default;
  friend class InternalKeys;
};
}  // namespace runtime

class EmbeddedEngine {
 public:
  // A single node on `data_dir`, with every default.
  static Result<std::unique_ptr<EmbeddedEngine>> start(const std::string& data_dir);
  static Result<std::unique_ptr<EmbeddedEngine>> start(EngineOptions options);

  // Stops (see stop()).
  ~EmbeddedEngine();
  EmbeddedEngine(const EmbeddedEngine&) = delete;
  EmbeddedEngine& operator=(const EmbeddedEngine&) = delete;

  // Waits, in real time, until this node serves: a leader is known, this node applied an entry
  // of the leader's term (so it reflects everything committed before), and a leader has taken
  // over lease time. kTimedOut otherwise; kUnavailable once stopped.
  Status wait_ready(std::chrono::milliseconds timeout);

  // Stops the node: requests in flight fail with kUnavailable, everything applied is flushed
  // to disk. Idempotent. Returns why the node had stopped on its own, if it had.
  Status stop();

  KvClient& client();

  [[nodiscard]] NodeId id() const;
  [[nodiscard]] bool is_leader() const;
  // kNoNode while none is known.
  [[nodiscard]] NodeId leader() const;
  [[nodiscard]] ConfState members() const;
  // Leader changes and configuration changes as this node sees them.
  MembershipWatch watch_membership();

  // ---- cluster operations: called on any member, carried out by the leader (one change at a
  // time; a single change takes one step, without a joint configuration, so a lone member can
  // add a voter that is not running yet). Each returns once the change is in force on this
  // node, or kTimedOut after `timeout` (real time; the change may still complete). Asked of a
  // follower, the change may be in force there a moment before the leader has it (the leader's
  // own write of the entry is still on its way to disk); until then the leader refuses the
  // next change with kFailedPrecondition ("still pending"): retry. ----
  static constexpr std::chrono::milliseconds kDefaultChangeTimeout{10'000};
  // A non-voting member that receives the log (start its engine with the voters as
  // initial_members, without itself).
  Status add_learner(NodeId node, std::chrono::milliseconds timeout = kDefaultChangeTimeout);
  // A new member that votes at once (etcd's `member add` without --learner); start its
  // engine as a learner's. Safer: add a learner, let it catch up, promote it.
  Status add_voter(NodeId node, std::chrono::milliseconds timeout = kDefaultChangeTimeout);
  // A learner becomes a voter. Refused (kFailedPrecondition) until its log is within 10% of
  // the leader's: it counts toward quorums at once. Adding a voter while a voter does not
  // answer, or removing one when the voters left that answer would be no quorum, is refused
  // with kUnavailable (etcd's strict reconfiguration checks).
  Status promote(NodeId node, std::chrono::milliseconds timeout = kDefaultChangeTimeout);
  // Removes a voter or a learner; stop its engine afterwards.
  Status remove_member(NodeId node, std::chrono::milliseconds timeout = kDefaultChangeTimeout);
  // Hands leadership to another voter (thesis §3.10); returns once this node knows it leads.
  Status transfer_leadership(NodeId to, std::chrono::milliseconds timeout = kDefaultChangeTimeout);

  // ---- the library's internals (runtime::InternalKey) ----
  runtime::RaftRuntime& raft_runtime(runtime::InternalKey key);
  static Result<std::unique_ptr<EmbeddedEngine>> start(EngineOptions options,
                                                       runtime::PeerWiring* wiring,
                                                       runtime::InternalKey key);

  struct Impl;

 private:
  Status change_membership(ConfChange change, std::chrono::milliseconds timeout);
  explicit EmbeddedEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dengine
