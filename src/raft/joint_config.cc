#include "raft/joint_config.h"

#include <algorithm>
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

Result<Membership> enter_joint(const Membership& current, const std::vector<ConfChange>& changes) {
  if (current.voters.is_joint()) {
    return Status::failed_precondition(
        "raft: the configuration is joint; it must leave the joint state before another change");
  }
  if (changes.empty())
    return Status::invalid_argument("raft: a configuration change needs changes");
  std::set<NodeId> voters(current.voters.incoming().voters().begin(),
                          current.voters.incoming().voters().end());
  std::set<NodeId> learners(current.learners.begin(), current.learners.end());
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
  Membership next;
  next.voters =
      JointConfig(MajorityConfig({voters.begin(), voters.end()}), current.voters.incoming());
  next.learners.assign(learners.begin(), learners.end());
  return next;
}

Membership leave_joint(const Membership& current) {
  Membership next;
  next.voters = JointConfig(current.voters.incoming());
  next.learners = current.learners;
  return next;
}

}  // namespace dengine::raft
