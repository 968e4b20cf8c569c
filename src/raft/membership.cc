// Membership changes. A single change (one voter or learner in or out, or a learner promoted)
// takes one step (thesis §4.1): the leader appends it, and every node acts on it as the entry is
// handed to the apply worker. Several changes at once go through joint consensus (thesis §4.3):
// the leader appends the entry that enters C_old,new, every node acts on it as it is applied,
// and the leader then appends the entry that leaves it for C_new.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "raft/conf_change_codec.h"
#include "raft/raft_node.h"

namespace dengine::raft {

Result<Index> RaftNode::propose_conf_change(std::vector<ConfChange> changes) {
  if (role_ != RaftRole::kLeader) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " cannot change the configuration: it is not the leader");
  }
  // A leader the configuration left out takes no proposals, a change least of all: it only
  // leads until the remaining voters know of its removal (apply_conf_change), and a change
  // that brought it back would leave it handing over a leadership it is owed again.
  if (removed_at_ != 0) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " was removed from the configuration and is handing over");
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
  // Thesis §4.1: one server added or removed keeps every majority of the old configuration
  // overlapping every majority of the new, so a lone change is made in one step, committed under
  // the old configuration and in force once applied (etcd-raft's automatic transition). Several
  // changes in one proposal need the joint configuration (thesis §4.3).
  ConfChangeEntry entry{.kind = changes.size() == 1 ? ConfChangeEntry::Kind::kSimple
                                                    : ConfChangeEntry::Kind::kEnterJoint,
                        .changes = std::move(changes)};
  Result<Membership> next = next_membership(membership_, entry);
  if (!next) return next.status();
  if (transfer_target_ != kNoNode) {
    return Status::unavailable("raft: leadership is being transferred; retry on the new leader");
  }
  const Index index = log_.last_index() + 1;
  log_.append(Entry{.term = term_,
                    .index = index,
                    .type = EntryType::kConfChange,
                    .data = encode_conf_change(entry)});
  pending_conf_index_ = index;
  broadcast_pending_ = true;
  check_invariants();
  return index;
}

void RaftNode::apply_conf_change(const Entry& entry) {
  Result<ConfChangeEntry> decoded = decode_conf_change(entry.data);
  // Only leaders write these entries, after validating them: a bad one is corruption.
  DENGINE_CHECK_MSG(decoded.has_value(), decoded.status().to_string());
  Result<Membership> next = next_membership(membership_, *decoded);
  DENGINE_CHECK_MSG(next.has_value(), "committed configuration change at index " +
                                          std::to_string(entry.index) +
                                          " is invalid: " + next.status().to_string());
  membership_ = std::move(*next);
  // Only an entry entering C_old,new leaves a joint configuration behind it.
  DENGINE_CHECK(membership_.voters.is_joint() ==
                (decoded->kind == ConfChangeEntry::Kind::kEnterJoint));
  if (role_ != RaftRole::kLeader) {
    check_invariants();
    return;
  }
  // What the previous configuration committed stays committed; new voters hold none of it yet.
  commit_floor_ = log_.committed();
  std::vector<NodeId> known;
  for (const auto& [node, pr] : progress_) known.push_back(node);
  update_progress_for_membership();
  // A smaller majority may already hold more (a voter removed): count again (etcd-raft does).
  maybe_advance_commit();
  // New members hear from the leader now, not at the next heartbeat or proposal. Without a
  // joint configuration no leave entry follows to carry the log to them.
  for (auto& [node, pr] : progress_) {
    if (!std::binary_search(known.begin(), known.end(), node)) {
      send_append(node, /*send_if_empty=*/true);
    }
  }
  if (!membership_.voters.is_joint() && !membership_.voters.contains(id())) {
    // Thesis §4.2.2: a leader removed from the configuration steps down once C_new is
    // committed. But the remaining voters act on C_new only once they know that, and until then
    // they may need votes from nodes that left: stepping down at once could leave no one able
    // to win. So it leads on (taking no proposals) until each of them knows.
    removed_at_ = entry.index;
    maybe_step_down_after_removal();
  }
  check_invariants();
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
    Result<Membership> next = next_membership(membership, *decoded);
    if (next) membership = std::move(*next);
  }
  return membership.to_conf_state();
}

}  // namespace dengine::raft
