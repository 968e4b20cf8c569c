#include "raft/joint_config.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

namespace dengine::raft {

std::vector<NodeId> JointConfig::all_voters() const {
  std::vector<NodeId> all = incoming_.voters();
  all.insert(all.end(), outgoing_.voters().begin(), outgoing_.voters().end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

Index JointConfig::committed_index(const std::function<Index(NodeId)>& match_of) const {
  const Index incoming = incoming_.committed_index(match_of);
  if (!is_joint()) return incoming;
  return std::min(incoming, outgoing_.committed_index(match_of));
}

VoteResult JointConfig::vote_result(const std::map<NodeId, bool>& votes) const {
  const VoteResult incoming = incoming_.vote_result(votes);
  if (!is_joint()) return incoming;
  const VoteResult outgoing = outgoing_.vote_result(votes);
  if (incoming == VoteResult::kLost || outgoing == VoteResult::kLost) return VoteResult::kLost;
  if (incoming == VoteResult::kWon && outgoing == VoteResult::kWon) return VoteResult::kWon;
  return VoteResult::kPending;
}

bool JointConfig::quorum_satisfies(const std::function<bool(NodeId)>& active) const {
  return incoming_.quorum_satisfies(active) && (!is_joint() || outgoing_.quorum_satisfies(active));
}

Membership Membership::from(const ConfState& conf) {
  Membership membership;
  membership.voters =
      JointConfig(MajorityConfig(conf.voters), MajorityConfig(conf.voters_outgoing));
  membership.learners = conf.learners;
  std::sort(membership.learners.begin(), membership.learners.end());
  return membership;
}

ConfState Membership::to_conf_state() const {
  return ConfState{.voters = voters.incoming().voters(),
                   .voters_outgoing = voters.outgoing().voters(),
                   .learners = learners};
}

bool Membership::is_learner(NodeId id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

std::vector<NodeId> Membership::peers_of(NodeId self) const {
  std::vector<NodeId> peers = voters.all_voters();
  peers.insert(peers.end(), learners.begin(), learners.end());
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  peers.erase(std::remove(peers.begin(), peers.end(), self), peers.end());
  return peers;
}

namespace {

// The voters and learners once `changes` are made to a configuration that is not joint.
struct ChangedMembers {
  std::set<NodeId> voters;
  std::set<NodeId> learners;
};

Result<ChangedMembers> make_changes(const Membership& current,
                                    const std::vector<ConfChange>& changes) {
  if (current.voters.is_joint()) {
    return Status::failed_precondition(
        "raft: the configuration is joint; it must leave the joint state before another change");
  }
  if (changes.empty())
    return Status::invalid_argument("raft: a configuration change needs changes");
  ChangedMembers next{.voters = {current.voters.incoming().voters().begin(),
                                 current.voters.incoming().voters().end()},
                      .learners = {current.learners.begin(), current.learners.end()}};
  std::set<NodeId>& voters = next.voters;
  std::set<NodeId>& learners = next.learners;
  std::set<NodeId> touched;
  for (const ConfChange& change : changes) {
    const std::string node = std::to_string(change.node);
    if (change.node == kNoNode) return Status::invalid_argument("raft: node id 0 is reserved");
    if (!touched.insert(change.node).second) {
      return Status::invalid_argument("raft: node " + node + " is changed twice in one change");
    }
    switch (change.op) {
      case ConfChangeOp::kAddVoter:
        if (voters.count(change.node) != 0) {
          return Status::invalid_argument("raft: node " + node + " is already a voter");
        }
        learners.erase(change.node);
        voters.insert(change.node);
        break;
      case ConfChangeOp::kAddLearner:
        if (voters.count(change.node) != 0) {
          return Status::invalid_argument("raft: node " + node +
                                          " is a voter; remove it before adding it as a learner");
        }
        if (!learners.insert(change.node).second) {
          return Status::invalid_argument("raft: node " + node + " is already a learner");
        }
        break;
      case ConfChangeOp::kRemoveNode:
        if (voters.erase(change.node) + learners.erase(change.node) == 0) {
          return Status::invalid_argument("raft: node " + node + " is not a member");
        }
        break;
    }
  }
  if (voters.empty()) {
    return Status::invalid_argument("raft: a configuration change may not remove every voter");
  }
  return next;
}

// How many servers are voters in exactly one of `before` and `after`.
size_t voters_changed(const std::vector<NodeId>& before, const std::set<NodeId>& after) {
  const std::set<NodeId> old_voters(before.begin(), before.end());
  std::vector<NodeId> changed;
  std::set_symmetric_difference(old_voters.begin(), old_voters.end(), after.begin(), after.end(),
                                std::back_inserter(changed));
  return changed.size();
}

}  // namespace

Result<Membership> simple_change(const Membership& current,
                                 const std::vector<ConfChange>& changes) {
  Result<ChangedMembers> changed = make_changes(current, changes);
  if (!changed) return changed.status();
  // Thesis §4.1: only a change of one voter keeps every majority of C_old overlapping every
  // majority of C_new; more than that needs C_old,new (etcd-raft refuses it the same way).
  if (voters_changed(current.voters.incoming().voters(), changed->voters) > 1) {
    return Status::invalid_argument(
        "raft: more than one voter changes; that needs a joint configuration");
  }
  Membership next;
  next.voters = JointConfig(MajorityConfig({changed->voters.begin(), changed->voters.end()}));
  next.learners.assign(changed->learners.begin(), changed->learners.end());
  return next;
}

Result<Membership> enter_joint(const Membership& current, const std::vector<ConfChange>& changes) {
  Result<ChangedMembers> changed = make_changes(current, changes);
  if (!changed) return changed.status();
  Membership next;
  next.voters = JointConfig(MajorityConfig({changed->voters.begin(), changed->voters.end()}),
                            current.voters.incoming());
  next.learners.assign(changed->learners.begin(), changed->learners.end());
  return next;
}

Membership leave_joint(const Membership& current) {
  Membership next;
  next.voters = JointConfig(current.voters.incoming());
  next.learners = current.learners;
  return next;
}

Result<Membership> next_membership(const Membership& current, const ConfChangeEntry& entry) {
  switch (entry.kind) {
    case ConfChangeEntry::Kind::kSimple: return simple_change(current, entry.changes);
    case ConfChangeEntry::Kind::kEnterJoint: return enter_joint(current, entry.changes);
    case ConfChangeEntry::Kind::kLeaveJoint: break;
  }
  if (!current.voters.is_joint()) {
    return Status::failed_precondition("raft: a leave-joint entry outside a joint configuration");
  }
  return leave_joint(current);
}

}  // namespace dengine::raft
