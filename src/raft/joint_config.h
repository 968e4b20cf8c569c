#pragma once

#include <functional>
#include <map>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "raft/conf_change_codec.h"
#include "raft/majority.h"

namespace dengine::raft {

// The voters of a possibly joint configuration (thesis §4.3): with an outgoing half, every
// quorum must be a majority of both halves, so neither the old nor the new configuration can
// decide alone while the cluster moves from one to the other.
class JointConfig {
 public:
  JointConfig() = default;
  JointConfig(MajorityConfig incoming)  // NOLINT(google-explicit-constructor): not joint
      : incoming_(std::move(incoming)) {}
  JointConfig(MajorityConfig incoming, MajorityConfig outgoing)
      : incoming_(std::move(incoming)), outgoing_(std::move(outgoing)) {}

  [[nodiscard]] const MajorityConfig& incoming() const { return incoming_; }
  [[nodiscard]] const MajorityConfig& outgoing() const { return outgoing_; }
  [[nodiscard]] bool is_joint() const { return !outgoing_.voters().empty(); }
  [[nodiscard]] bool contains(NodeId id) const {
    return incoming_.contains(id) || outgoing_.contains(id);
  }
  // Every voter of either half, sorted, once.
  [[nodiscard]] std::vector<NodeId> all_voters() const;
  [[nodiscard]] bool is_single_voter() const { return all_voters().size() == 1; }

  [[nodiscard]] Index committed_index(const std::function<Index(NodeId)>& match_of) const;
  [[nodiscard]] VoteResult vote_result(const std::map<NodeId, bool>& votes) const;
  [[nodiscard]] bool quorum_satisfies(const std::function<bool(NodeId)>& active) const;

 private:
  MajorityConfig incoming_;
  MajorityConfig outgoing_;  // empty unless joint
};

// Voters and learners: the configuration a node acts on.
struct Membership {
  JointConfig voters;
  std::vector<NodeId> learners;  // sorted

  [[nodiscard]] static Membership from(const ConfState& conf);
  [[nodiscard]] ConfState to_conf_state() const;
  [[nodiscard]] bool is_learner(NodeId id) const;
  // Every member other than `self`: the nodes a leader replicates to.
  [[nodiscard]] std::vector<NodeId> peers_of(NodeId self) const;
};

// Thesis §4.1: a change of at most one voter, straight from C_old to C_new. Any majority of the
// one meets any majority of the other, so no joint configuration is needed (etcd-raft's
// confchange.Changer.Simple). The current configuration must not be joint.
Result<Membership> simple_change(const Membership& current, const std::vector<ConfChange>& changes);
// Thesis §4.3: entering the joint configuration C_old,new, for changes of several servers at
// once. The current configuration must not be joint; the result is joint with the current
// voters as the outgoing half.
Result<Membership> enter_joint(const Membership& current, const std::vector<ConfChange>& changes);
// Thesis §4.3: leaving it for C_new.
Membership leave_joint(const Membership& current);
// The configuration after the entry `entry` on `current`: the one rule every reader of
// configuration entries shares (the core as it applies or replays them, the simulator).
Result<Membership> next_membership(const Membership& current, const ConfChangeEntry& entry);

}  // namespace dengine::raft
