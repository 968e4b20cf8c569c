// Leader routing (RaftRuntime): what only a leader serves — writes, membership changes and
// leadership transfer — is done here when this node leads, and otherwise asked of the leader
// through the router (PeerRouter), when this node knows it and can reach it.

#include <utility>
#include <vector>

#include "runtime/raft_runtime.h"
#include "runtime/reconfig_checks.h"

namespace dengine::runtime {

NodeId RaftRuntime::reachable_leader() {
  const NodeId leader = status().leader;
  if (router_ == nullptr || leader == kNoNode || leader == id_) return kNoNode;
  return router_->reaches(leader) ? leader : kNoNode;
}

bool RaftRuntime::forward_proposal(ProposeInput& input) {
  // Bounded: nodes with stale views of who leads could otherwise pass a command around.
  if (router_ == nullptr || raft_->role() == RaftRole::kLeader) return false;
  const NodeId leader = raft_->leader();
  if (leader == kNoNode || leader == raft_->id() || input.hops >= kMaxForwardHops) return false;
  if (!router_->reaches(leader)) return false;
  router_->propose(
      leader, std::move(input.command), input.hops + 1,
      [this, done = std::move(input.done)](Result<ApplyResult> outcome) mutable {
        if (!outcome || outcome->log_index == 0) return done(std::move(outcome));
        // etcd's applyWait: the answer waits until this member applied the entry too, so that
        // a serializable read here right after the write sees it.
        const Index index = outcome->log_index;
        read(
            ReadMode::kConfirmed,
            [outcome = std::move(outcome), done = std::move(done)](
                Result<const StateMachine*> /*applied or stopped: applied on the leader*/) mutable {
              done(std::move(outcome));
            },
            index);
      });
  return true;
}

// Each of these runs on the core thread; a request refused on the way there (overloaded,
// stopped) is told why.
void RaftRuntime::change_membership(std::vector<ConfChange> changes, PeerRouter::IndexDone done) {
  run_on_core([this, changes = std::move(changes),
               done = std::move(done)](Result<raft::RaftNode*> core) mutable {
    if (!core) return done(core.status());
    raft::RaftNode& raft = **core;
    if (raft.role() != RaftRole::kLeader) {
      const NodeId leader = reachable_leader();
      if (leader != kNoNode) {
        return router_->change_membership(leader, std::move(changes), std::move(done));
      }
    }
    done(propose_checked(raft, std::move(changes)));
  });
}

void RaftRuntime::change_membership_as_leader(std::vector<ConfChange> changes,
                                              PeerRouter::IndexDone done) {
  run_on_core([this, changes = std::move(changes),
               done = std::move(done)](Result<raft::RaftNode*> core) mutable {
    if (!core) return done(core.status());
    done(propose_checked(**core, std::move(changes)));
  });
}

// A leader makes etcd's strict checks first (reconfig_checks.h); a follower's core refuses the
// change on its own.
Result<Index> RaftRuntime::propose_checked(raft::RaftNode& raft,
                                           std::vector<ConfChange> changes) const {
  if (raft.role() == RaftRole::kLeader) {
    if (Status safe = check_reconfiguration(raft, changes, options_.max_learners); !safe) {
      return safe;
    }
  }
  return raft.propose_conf_change(std::move(changes));
}

void RaftRuntime::transfer_leadership(NodeId target, PeerRouter::StatusDone done) {
  run_on_core([this, target, done = std::move(done)](Result<raft::RaftNode*> core) mutable {
    if (!core) return done(core.status());
    raft::RaftNode& raft = **core;
    if (raft.role() != RaftRole::kLeader) {
      const NodeId leader = reachable_leader();
      if (leader != kNoNode) return router_->transfer_leadership(leader, target, std::move(done));
    }
    done(raft.transfer_leadership(target));
  });
}

void RaftRuntime::transfer_leadership_as_leader(NodeId target, PeerRouter::StatusDone done) {
  run_on_core([target, done = std::move(done)](Result<raft::RaftNode*> core) mutable {
    if (!core) return done(core.status());
    done((*core)->transfer_leadership(target));
  });
}

}  // namespace dengine::runtime
