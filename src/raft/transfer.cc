// Leadership transfer (thesis §3.10): the leader catches the target up, tells it to campaign
// at once with TimeoutNow, and refuses proposals meanwhile.

#include <string>

#include "raft/raft_node.h"

namespace dengine::raft {

Status RaftNode::transfer_leadership(NodeId target) {
  if (role_ != RaftRole::kLeader) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " cannot transfer leadership: it is not the leader");
  }
  if (target == id() || !membership_.voters.contains(target)) {
    return Status::invalid_argument("raft: node " + std::to_string(target) +
                                    " is not another voter to transfer leadership to");
  }
  transfer_target_ = target;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
  const Progress& pr = progress(target);
  // Thesis §3.10 step 2: the target must hold the whole log before it campaigns.
  if (pr.match() == log_.last_index()) {
    send_timeout_now(target);
  } else {
    send_append(target, /*send_if_empty=*/true);
  }
  check_invariants();
  return Status::ok();
}

void RaftNode::maybe_send_timeout_now(NodeId caught_up) {
  // Thesis §3.10: once the transfer target holds the whole log, it may campaign.
  if (caught_up != transfer_target_ || timeout_now_sent_) return;
  if (progress(caught_up).match() == log_.last_index()) send_timeout_now(caught_up);
}

void RaftNode::send_timeout_now(NodeId to) {
  // Voters may elect `to` at once from now on: no lease of this term can be trusted.
  timeout_now_sent_ = true;
  lease_forfeited_ = true;
  lease_expiry_nanos_ = 0;
  send(Message{.type = MessageType::kTimeoutNow, .to = to, .term = term_});
}

}  // namespace dengine::raft
