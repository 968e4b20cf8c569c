// Membership changes through joint consensus (thesis §4.3): the leader appends the entry that
// enters C_old,new, every node acts on a configuration entry as it is handed to the apply
// worker, and the leader then appends the entry that leaves it for C_new.

#include <string>
#include <utility>

#include "common/check.h"
#include "raft/conf_change_codec.h"
#include "raft/raft_node.h"

namespace dengine::raft {

Result<Index> RaftNode::propose_conf_change(std::vector<ConfChange> changes) {
  if (role_ != RaftRole::kLeader) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " cannot change the configuration: it is not the leader");
  }
  // Ongaro's fix for the single-server-change bug (raft-dev, 2015): a new leader may not change
  // the configuration before it has committed an entry of its own term.
  if (!committed_in_current_term()) {
    return Status::failed_precondition(
        "raft: the leader has not committed an entry of its term yet; retry the change");
  }
  // Thesis §4.1: one change at a time.
  if (pending_conf_index_ > log_.applying()) {
    return Status::failed_precondition("raft: the configuration change at index " +
                                       std::to_string(pending_conf_index_) + " is still pending");
  }
  Result<Membership> next = enter_joint(membership_, changes);
  if (!next) return next.status();
  if (transfer_target_ != kNoNode) {
    return Status::unavailable("raft: leadership is being transferred; retry on the new leader");
  }
  const Index index = log_.last_index() + 1;
  log_.append(
      Entry{.term = term_,
            .index = index,
            .type = EntryType::kConfChange,
            .data = encode_conf_change(ConfChangeEntry{.kind = ConfChangeEntry::Kind::kEnterJoint,
                                                       .changes = std::move(changes)})});
  pending_conf_index_ = index;
  broadcast_pending_ = true;
  check_invariants();
  return index;
}

void RaftNode::apply_conf_change(const Entry& entry) {
  Result<ConfChangeEntry> decoded = decode_conf_change(entry.data);
  // Only leaders write these entries, after validating them: a bad one is corruption.
  DENGINE_CHECK_MSG(decoded.has_value(), decoded.status().to_string());
  if (decoded->kind == ConfChangeEntry::Kind::kEnterJoint) {
    Result<Membership> next = enter_joint(membership_, decoded->changes);
    DENGINE_CHECK_MSG(next.has_value(), "committed configuration change at index " +
                                            std::to_string(entry.index) +
                                            " is invalid: " + next.status().to_string());
    membership_ = std::move(*next);
  } else {
    membership_ = leave_joint(membership_);
  }
  if (role_ != RaftRole::kLeader) return;
  // What the previous configuration committed stays committed; new voters hold none of it yet.
  commit_floor_ = log_.committed();
  update_progress_for_membership();
  if (!membership_.voters.is_joint() && !membership_.voters.contains(id())) {
    // Thesis §4.2.2: a leader removed from the configuration steps down once C_new is
    // committed. But the remaining voters act on C_new only once they know that, and until then
    // they may need votes from nodes that left: stepping down at once could leave no one able
    // to win. So it leads on (taking no proposals) until each of them knows.
    removed_at_ = entry.index;
    maybe_step_down_after_removal();
  }
}

void RaftNode::maybe_leave_joint() {
  // Thesis §4.3: once C_old,new is in effect the leader moves on to C_new by itself — whichever
  // leader finds itself joint, including one elected after the leader that entered it, once it
  // has applied everything up to its own pending change (its no-op, after an election).
  if (role_ != RaftRole::kLeader || !membership_.voters.is_joint()) return;
  if (log_.applying() < pending_conf_index_) return;
  const Index index = log_.last_index() + 1;
  log_.append(Entry{.term = term_,
                    .index = index,
                    .type = EntryType::kConfChange,
                    .data = encode_conf_change(ConfChangeEntry{
                        .kind = ConfChangeEntry::Kind::kLeaveJoint, .changes = {}})});
  pending_conf_index_ = index;
  broadcast_pending_ = true;
}

void RaftNode::maybe_step_down_after_removal() {
  if (role_ != RaftRole::kLeader || removed_at_ == 0) return;
  NodeId successor = kNoNode;
  for (NodeId voter : membership_.voters.all_voters()) {
    const Progress& pr = progress(voter);
    if (pr.commit_known() < removed_at_) return;
    if (successor == kNoNode || pr.match() > progress(successor).match()) successor = voter;
  }
  // Thesis §3.10: hand over to the most caught-up voter rather than wait for a timeout.
  send_timeout_now(successor);
  become_follower(term_, kNoNode);
}

ConfState RaftNode::conf_state_at_commit() const {
  Membership membership = membership_;
  for (Index index = log_.applying() + 1; index <= log_.committed(); ++index) {
    const Entry& entry = log_.at(index);
    if (entry.type != EntryType::kConfChange) continue;
    Result<ConfChangeEntry> decoded = decode_conf_change(entry.data);
    if (!decoded) continue;
    if (decoded->kind == ConfChangeEntry::Kind::kEnterJoint) {
      Result<Membership> next = enter_joint(membership, decoded->changes);
      if (next) membership = std::move(*next);
    } else {
      membership = leave_joint(membership);
    }
  }
  return membership.to_conf_state();
}

}  // namespace dengine::raft
