#include "runtime/reconfig_checks.h"

#include <algorithm>
#include <string>

namespace dengine::runtime {
namespace {

// etcd's readyPercent: a learner whose log holds 90% of the leader's may be promoted.
constexpr double kLearnerReadyFraction = 0.9;

bool holds(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

bool heard_lately(const raft::RaftNode& leader, NodeId node) {
  if (node == leader.id()) return true;
  const raft::Progress* progress = leader.progress_of(node);
  // answered(): a new leader presumes its followers active for a check-quorum round, which is
  // no evidence that a larger quorum is reachable.
  return progress != nullptr && progress->answered() && progress->heard_lately();
}

Status check_promotion(const raft::RaftNode& leader, NodeId learner) {
  const raft::Progress* progress = leader.progress_of(learner);
  const Index leader_last = leader.log().last_index();
  const Index match = progress == nullptr ? 0 : progress->match();
  if (static_cast<double>(match) >= kLearnerReadyFraction * static_cast<double>(leader_last)) {
    return Status::ok();
  }
  return Status::of(ErrorDetail::kLearnerNotInSync,
                    "learner " + std::to_string(learner) + " holds the log up to index " +
                        std::to_string(match) + " of the leader's " + std::to_string(leader_last) +
                        "; promote it once it is within 10%");
}

Status check_new_voter(const raft::RaftNode& leader, const std::vector<NodeId>& voters) {
  for (const NodeId voter : voters) {
    if (!heard_lately(leader, voter)) {
      return Status::of(ErrorDetail::kUnhealthyCluster,
                        "voter " + std::to_string(voter) +
                            " has not answered lately, and a larger quorum must be reachable "
                            "before a voter is added");
    }
  }
  return Status::ok();
}

Status check_removal(const raft::RaftNode& leader, const std::vector<NodeId>& voters,
                     NodeId removed) {
  if (removed != leader.id() && !heard_lately(leader, removed)) return Status::ok();
  const auto active = static_cast<size_t>(std::count_if(
      voters.begin(), voters.end(), [&](NodeId voter) { return heard_lately(leader, voter); }));
  const size_t remaining = voters.size() - 1;
  const size_t quorum = remaining / 2 + 1;
  if (active - 1 >= quorum) return Status::ok();
  return Status::of(ErrorDetail::kUnhealthyCluster,
                    "removing voter " + std::to_string(removed) + " would leave " +
                        std::to_string(active - 1) + " answering voters of " +
                        std::to_string(remaining) + ", short of a quorum of " +
                        std::to_string(quorum));
}

Status check_new_learner(const ConfState& conf, NodeId learner, size_t max_learners) {
  if (max_learners == 0 || conf.learners.size() < max_learners) return Status::ok();
  return Status::of(ErrorDetail::kTooManyLearners,
                    "learner " + std::to_string(learner) + " would be one more than the limit of " +
                        std::to_string(max_learners) + "; promote or remove a learner first");
}

}  // namespace

Status check_reconfiguration(const raft::RaftNode& leader, const std::vector<ConfChange>& changes,
                             size_t max_learners) {
  const ConfState conf = leader.conf_state();
  for (const ConfChange& change : changes) {
    Status checked;
    switch (change.op) {
      case ConfChangeOp::kAddVoter:
        if (holds(conf.voters, change.node)) break;  // already a voter: nothing changes
        checked = holds(conf.learners, change.node) ? check_promotion(leader, change.node)
                                                    : check_new_voter(leader, conf.voters);
        break;
      case ConfChangeOp::kAddLearner:
        // A learner holds no quorum up; only their number is bounded. A voter demoted to a
        // learner, or one already a learner, is no new one.
        if (!holds(conf.learners, change.node) && !holds(conf.voters, change.node)) {
          checked = check_new_learner(conf, change.node, max_learners);
        }
        break;
      case ConfChangeOp::kRemoveNode:
        if (holds(conf.voters, change.node))
          checked = check_removal(leader, conf.voters, change.node);
        break;
    }
    if (!checked) return checked;
  }
  return Status::ok();
}

}  // namespace dengine::runtime
