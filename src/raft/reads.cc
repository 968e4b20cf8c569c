// Reads that bypass the log: ReadIndex (thesis §6.4) and leader leases (thesis §6.4.1).

#include <algorithm>
#include <string>
#include <utility>

#include "common/check.h"
#include "raft/raft_node.h"

namespace dengine::raft {

bool RaftNode::committed_in_current_term() const {
  return log_.term_at(log_.committed()) == term_;
}

Status RaftNode::read_index(uint64_t request_id) {
  if (role_ != RaftRole::kLeader) {
    if (leader_ == kNoNode) {
      return Status::unavailable("raft: node " + std::to_string(id()) +
                                 " knows no leader to confirm a read");
    }
    if (forwarded_reads_.size() >= config_.max_pending_reads) {
      return Status::resource_exhausted("raft: " + std::to_string(forwarded_reads_.size()) +
                                        " reads wait for the leader's answer (max_pending_reads)");
    }
    // Thesis §6.4: a follower asks the leader for its read index, then waits to apply that far.
    forwarded_reads_.push_back(ForwardedRead{.request_id = request_id, .ticks_waited = 0});
    send(Message{
        .type = MessageType::kReadIndex, .to = leader_, .term = term_, .context = request_id});
    return Status::ok();
  }
  if (pending_reads_ >= config_.max_pending_reads) {
    return Status::resource_exhausted("raft: " + std::to_string(pending_reads_) +
                                      " reads wait for confirmation (max_pending_reads)");
  }
  queue_read(PendingRead{.request_id = request_id, .from = kNoNode, .index = 0});
  check_invariants();
  return Status::ok();
}

void RaftNode::handle_read_index(const Message& request) {
  // A node outside the configuration is not replicated to: it would wait forever to apply as
  // far as the answer says. Refused, its caller retries on a member (found by the simulator,
  // seed 3001876 on 3 nodes: a node removed, its clients' reads hung).
  const bool member =
      membership_.voters.contains(request.from) || membership_.is_learner(request.from);
  if (role_ != RaftRole::kLeader || !member || pending_reads_ >= config_.max_pending_reads) {
    send(Message{.type = MessageType::kReadIndexResponse,
                 .to = request.from,
                 .term = term_,
                 .reject = true,
                 .context = request.context});
    return;
  }
  queue_read(PendingRead{.request_id = request.context, .from = request.from, .index = 0});
}

void RaftNode::handle_read_index_response(const Message& response) {
  auto forwarded =
      std::find_if(forwarded_reads_.begin(), forwarded_reads_.end(),
                   [&](const ForwardedRead& read) { return read.request_id == response.context; });
  // Already failed (the leader changed, or it answered too late): the caller was told.
  if (forwarded == forwarded_reads_.end()) return;
  forwarded_reads_.erase(forwarded);
  if (response.reject) {
    aborted_reads_.push_back(response.context);
  } else {
    read_states_.push_back(ReadState{.request_id = response.context, .index = response.index});
  }
}

void RaftNode::queue_read(PendingRead read) {
  ++pending_reads_;
  // Thesis §6.4 step 1: until the leader has committed an entry of its own term it does not
  // know the commit index of the cluster; its own may be stale.
  if (!committed_in_current_term()) {
    reads_awaiting_term_commit_.push_back(read);
    return;
  }
  read.index = log_.committed();
  // A lone voter needs no one's confirmation.
  if (membership_.voters.is_single_voter() && membership_.voters.contains(id())) {
    confirm_reads({read});
    return;
  }
  // Step 2 and 3: the next heartbeat round confirms it; reads arriving together share a round.
  heartbeat_rounds_.add_read(read);
}

void RaftNode::release_reads_awaiting_term_commit() {
  if (reads_awaiting_term_commit_.empty() || !committed_in_current_term()) return;
  std::vector<PendingRead> waiting = std::move(reads_awaiting_term_commit_);
  reads_awaiting_term_commit_.clear();
  for (PendingRead& read : waiting) {
    --pending_reads_;
    queue_read(read);
  }
}

void RaftNode::confirm_reads(std::vector<PendingRead> reads) {
  for (PendingRead& read : reads) {
    DENGINE_CHECK(pending_reads_ > 0);
    --pending_reads_;
    if (read.from == kNoNode) {
      read_states_.push_back(ReadState{.request_id = read.request_id, .index = read.index});
    } else {
      send(Message{.type = MessageType::kReadIndexResponse,
                   .to = read.from,
                   .term = term_,
                   .index = read.index,
                   .context = read.request_id});
    }
  }
}

void RaftNode::abort_read(const PendingRead& read) {
  if (read.from == kNoNode) {
    aborted_reads_.push_back(read.request_id);
    return;
  }
  // Tell the follower that forwarded it, so its caller retries now rather than timing out.
  send(Message{.type = MessageType::kReadIndexResponse,
               .to = read.from,
               .term = term_,
               .reject = true,
               .context = read.request_id});
}

void RaftNode::abort_reads() {
  std::vector<PendingRead> reads = heartbeat_rounds_.take_all();
  for (PendingRead& read : reads_awaiting_term_commit_) reads.push_back(read);
  reads_awaiting_term_commit_.clear();
  for (const PendingRead& read : reads) abort_read(read);
  pending_reads_ = 0;
}

void RaftNode::abort_forwarded_reads() {
  // Whoever leads now never heard of them, and the old leader's answer may never come: the
  // callers retry rather than wait for their own deadlines.
  for (const ForwardedRead& read : forwarded_reads_) aborted_reads_.push_back(read.request_id);
  forwarded_reads_.clear();
}

void RaftNode::tick_forwarded_reads() {
  // A leader answers within a round trip; an election timeout without an answer means the
  // request or the answer was lost (the leader itself may still lead).
  auto expired =
      std::remove_if(forwarded_reads_.begin(), forwarded_reads_.end(), [&](ForwardedRead& read) {
        if (++read.ticks_waited < config_.election_timeout_ticks) {
          return false;
        }
        aborted_reads_.push_back(read.request_id);
        return true;
      });
  forwarded_reads_.erase(expired, forwarded_reads_.end());
}

void RaftNode::confirm_heartbeat_round(NodeId voter, uint64_t round_id) {
  HeartbeatRounds::Confirmed confirmed =
      heartbeat_rounds_.acknowledge(voter, round_id, id(), membership_.voters);
  if (!confirmed.any) return;
  // Thesis §6.4.1: a quorum answered heartbeats sent at `sent_at`, so none of them will vote
  // for another leader until an election timeout after they received them — later than that.
  if (config_.lease_duration_nanos > 0 && !lease_forfeited_) {
    lease_expiry_nanos_ =
        std::max(lease_expiry_nanos_, confirmed.sent_at + config_.lease_duration_nanos);
  }
  confirm_reads(std::move(confirmed.reads));
}

Result<Index> RaftNode::lease_read(uint64_t now_nanos) {
  if (role_ != RaftRole::kLeader) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " holds no lease: it is not the leader");
  }
  if (config_.lease_duration_nanos == 0) {
    return Status::failed_precondition("raft: lease reads are disabled (lease_duration_nanos 0)");
  }
  if (!committed_in_current_term()) {
    return Status::unavailable("raft: the leader has not committed an entry of its term yet");
  }
  if (lease_forfeited_) {
    return Status::unavailable("raft: the lease was given up with a leadership transfer");
  }
  // Checked against the clock reading taken as the read is served, never against ticks: ticks
  // stop while a process is paused, and a leader resumed after a pause must not trust them.
  if (!membership_.voters.is_single_voter() && now_nanos >= lease_expiry_nanos_) {
    return Status::unavailable("raft: the leader lease has expired; confirm with read_index");
  }
  return log_.committed();
}

void RaftNode::observe_clock(uint64_t now_nanos) {
  clock_nanos_ = std::max(clock_nanos_, now_nanos);
}

}  // namespace dengine::raft
