#include "raft/raft_node.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/check.h"
#include "raft/conf_change_codec.h"

namespace dengine::raft {

Result<std::unique_ptr<RaftNode>> RaftNode::create(RaftConfig config, RaftBootState boot) {
  if (Status valid = config.validate(); !valid) return valid;
  const Index snapshot_index = boot.snapshot.index;
  for (size_t i = 0; i < boot.entries.size(); ++i) {
    if (boot.entries[i].index != snapshot_index + i + 1) {
      return Status::corruption("raft: recovered log is not contiguous at position " +
                                std::to_string(i) + " (index " +
                                std::to_string(boot.entries[i].index) + ", expected " +
                                std::to_string(snapshot_index + i + 1) + ")");
    }
  }
  const Index last_index = snapshot_index + boot.entries.size();
  // The state machine must hold everything the log no longer does.
  if (boot.applied < snapshot_index) {
    return Status::corruption("raft: state machine applied index " + std::to_string(boot.applied) +
                              " is behind the log's snapshot at " + std::to_string(snapshot_index) +
                              ": entries " + std::to_string(boot.applied + 1) + ".." +
                              std::to_string(snapshot_index) + " were compacted away");
  }
  boot.hard_state.commit = std::max(boot.hard_state.commit, snapshot_index);
  if (boot.hard_state.commit > last_index) {
    return Status::corruption("raft: recovered commit index " +
                              std::to_string(boot.hard_state.commit) + " is past the last entry " +
                              std::to_string(last_index));
  }
  // Raft Figure 2: currentTerm is persisted before any entry of that term is accepted, so a log
  // entry newer than the recovered term means the hard state was lost or rolled back.
  if (std::max(boot.entries.empty() ? 0 : boot.entries.back().term, boot.snapshot.term) >
      boot.hard_state.term) {
    return Status::corruption(
        "raft: recovered log ends in term " +
        std::to_string(boot.entries.empty() ? boot.snapshot.term : boot.entries.back().term) +
        " but the recovered current term is " + std::to_string(boot.hard_state.term));
  }
  if (boot.applied > boot.hard_state.commit) {
    // The state machine can only hold committed entries; commit was merely not re-persisted.
    if (boot.applied > last_index) {
      return Status::corruption("raft: state machine applied index " +
                                std::to_string(boot.applied) + " is past the last log entry " +
                                std::to_string(last_index));
    }
    boot.hard_state.commit = boot.applied;
  }
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(config), std::move(boot)));
}

RaftNode::RaftNode(RaftConfig config, RaftBootState boot)
    : config_(std::move(config)),
      membership_(boot.snapshot.conf.voters.empty()
                      ? Membership::from(ConfState{.voters = config_.voters})
                      : Membership::from(boot.snapshot.conf)),
      log_(boot.snapshot, std::move(boot.entries), boot.hard_state.commit, boot.applied),
      term_(boot.hard_state.term),
      vote_(boot.hard_state.vote),
      random_state_(config_.random_seed ^ (config_.id * 0x9E3779B97F4A7C15ULL)),
      heartbeat_rounds_(config_.max_heartbeat_rounds) {
  last_handed_hard_state_ = boot.hard_state;
  durable_term_ = boot.hard_state.term;
  // The state machine already holds entries up to `applied`; the configurations among them are
  // in effect, as they were before the restart.
  for (Index index = log_.snapshot_index() + 1; index <= log_.applied(); ++index) {
    const Entry& entry = log_.at(index);
    if (entry.type != EntryType::kConfChange) continue;
    Result<ConfChangeEntry> decoded = decode_conf_change(entry.data);
    DENGINE_CHECK_MSG(decoded.has_value(), decoded.status().to_string());
    Result<Membership> next = next_membership(membership_, *decoded);
    DENGINE_CHECK_MSG(next.has_value(), next.status().to_string());
    membership_ = std::move(*next);
  }
  latest_snapshot_ = boot.snapshot;
  booting_ = boot.hard_state.term > 0;
  checked_term_ = term_;
  checked_commit_ = log_.committed();
  become_follower(term_, kNoNode);
}

void RaftNode::tick() {
  if (booting_ && ++ticks_since_boot_ >= config_.election_timeout_ticks) booting_ = false;
  if (role_ == RaftRole::kLeader) {
    tick_heartbeat();
  } else {
    tick_forwarded_reads();
    tick_election();
  }
  check_invariants();
}

void RaftNode::tick_election() {
  ++election_elapsed_;
  // Only voters campaign: a node outside the configuration could never win.
  if (election_elapsed_ >= randomized_election_timeout_ && membership_.voters.contains(id())) {
    election_elapsed_ = 0;
    start_election();
  }
}

void RaftNode::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (transfer_target_ != kNoNode && ++transfer_elapsed_ >= config_.election_timeout_ticks) {
    // Thesis §3.10: "if the transfer does not complete within an election timeout, the prior
    // leader aborts the transfer and resumes accepting client requests".
    transfer_target_ = kNoNode;
  }
  if (election_elapsed_ >= config_.election_timeout_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      check_quorum_or_step_down();
      if (role_ != RaftRole::kLeader) return;
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

void RaftNode::step(const Message& message) {
  DENGINE_CHECK(message.to == id());
  if (message.term > term_) {
    const bool is_vote_request =
        message.type == MessageType::kVote || message.type == MessageType::kPreVote;
    // Thesis §4.2.3 / §9.6: while a follower hears from a current leader it ignores requests
    // for a new election, so a node that was merely cut off cannot depose a healthy leader —
    // unless the leader itself asked for the election (§3.10).
    if (is_vote_request && hears_from_leader() && message.context != kTransferCampaign) return;
    if (message.type == MessageType::kPreVote) {
      // Thesis §9.6: a pre-vote changes nothing, not even our term.
    } else if (message.type == MessageType::kPreVoteResponse && !message.reject) {
      // A granted pre-vote carries the term the candidate proposed, not one anyone holds yet.
    } else {
      // Raft §5.1: "If RPC request or response contains term T > currentTerm: set
      // currentTerm = T, convert to follower."
      const bool from_leader = message.type == MessageType::kAppend ||
                               message.type == MessageType::kHeartbeat ||
                               message.type == MessageType::kSnapshot;
      become_follower(message.term, from_leader ? message.from : kNoNode);
    }
  } else if (message.term < term_) {
    handle_stale_term(message);
    check_invariants();
    return;
  }

  switch (message.type) {
    case MessageType::kPreVote:
    case MessageType::kVote: handle_vote_request(message); break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse: handle_vote_response(message); break;
    case MessageType::kAppend:
      // Election Safety (Raft §5.2): another leader of our own term cannot exist.
      DENGINE_CHECK_MSG(role_ != RaftRole::kLeader, "two leaders in term " + std::to_string(term_));
      // Raft §5.2: a candidate that hears from a leader of its own term steps down.
      if (role_ != RaftRole::kFollower) become_follower(term_, message.from);
      handle_append(message);
      break;
    case MessageType::kHeartbeat:
      DENGINE_CHECK_MSG(role_ != RaftRole::kLeader, "two leaders in term " + std::to_string(term_));
      if (role_ != RaftRole::kFollower) become_follower(term_, message.from);
      handle_heartbeat(message);
      break;
    // Answers from nodes that have since left the configuration are ignored.
    case MessageType::kAppendResponse:
      if (role_ == RaftRole::kLeader && progress_.count(message.from) != 0) {
        handle_append_response(message);
      }
      break;
    case MessageType::kHeartbeatResponse:
      if (role_ == RaftRole::kLeader && progress_.count(message.from) != 0) {
        handle_heartbeat_response(message);
      }
      break;
    case MessageType::kSnapshot:
      DENGINE_CHECK_MSG(role_ != RaftRole::kLeader, "two leaders in term " + std::to_string(term_));
      if (role_ != RaftRole::kFollower) become_follower(term_, message.from);
      handle_snapshot(message);
      break;
    case MessageType::kTimeoutNow:
      // Thesis §3.10: the target starts an election at once, skipping pre-vote.
      if (role_ != RaftRole::kLeader && membership_.voters.contains(id())) become_candidate(true);
      break;
    case MessageType::kReadIndex: handle_read_index(message); break;
    case MessageType::kReadIndexResponse: handle_read_index_response(message); break;
  }
  check_invariants();
}

void RaftNode::handle_stale_term(const Message& message) {
  // Raft §5.1: stale-term messages are rejected. Two replies matter:
  if (config_.check_quorum || config_.pre_vote) {
    if (message.type == MessageType::kAppend || message.type == MessageType::kHeartbeat ||
        message.type == MessageType::kSnapshot) {
      // A deposed leader that we ignore would never learn the new term: with pre-vote and
      // check-quorum its followers' pre-votes could not win and the cluster could stall.
      send(Message{.type = MessageType::kAppendResponse, .to = message.from, .term = term_});
      return;
    }
  }
  if (message.type == MessageType::kPreVote) {
    // Tell the pre-candidate of our term, or it would wait for an answer that never comes.
    send(Message{
        .type = MessageType::kPreVoteResponse, .to = message.from, .term = term_, .reject = true});
  }
}

Result<Index> RaftNode::propose(std::string data) {
  if (role_ != RaftRole::kLeader) {
    std::string text = "raft: node " + std::to_string(id()) + " is not the leader";
    text +=
        leader_ != kNoNode ? " (leader is " + std::to_string(leader_) + ")" : " (no leader known)";
    return Status::not_leader(std::move(text));
  }
  if (removed_at_ != 0) {
    return Status::not_leader("raft: node " + std::to_string(id()) +
                              " was removed from the configuration and is handing over");
  }
  if (transfer_target_ != kNoNode) {
    return Status::unavailable("raft: leadership is being transferred to node " +
                               std::to_string(transfer_target_) + "; retry on the new leader");
  }
  if (data.size() > config_.max_entry_bytes) {
    return Status::invalid_argument("raft: proposal of " + std::to_string(data.size()) +
                                    " bytes exceeds max_entry_bytes " +
                                    std::to_string(config_.max_entry_bytes));
  }
  // Thesis §10.2.1 flow control: refuse rather than buffer without bound when commits stall.
  if (uncommitted_bytes_ + data.size() > config_.max_uncommitted_bytes && uncommitted_bytes_ > 0) {
    return Status::resource_exhausted(
        "raft: proposal dropped: uncommitted log holds " + std::to_string(uncommitted_bytes_) +
        " bytes (max_uncommitted_bytes " + std::to_string(config_.max_uncommitted_bytes) + ")");
  }
  const Index index = log_.last_index() + 1;
  uncommitted_bytes_ += data.size();
  log_.append(
      Entry{.term = term_, .index = index, .type = EntryType::kNormal, .data = std::move(data)});
  // Proposals that arrive before the next Ready share one kAppend per follower.
  broadcast_pending_ = true;
  check_invariants();
  return index;
}

void RaftNode::on_persisted(uint64_t write_id) {
  DENGINE_CHECK(write_id <= last_write_id_);
  while (!pending_writes_.empty() && pending_writes_.front().write_id <= write_id) {
    PendingWrite& write = pending_writes_.front();
    log_.stable_to(write.last_index, write.last_term);
    durable_term_ = std::max(durable_term_, write.term);
    for (Message& message : write.released_when_durable) outbox_.push_back(std::move(message));
    pending_writes_.pop_front();
  }
  count_own_vote_once_durable();
  // Thesis §10.2.1: the leader's own acknowledgement counts once its append is durable; a
  // single-voter group commits here, as soon as its own append is.
  if (role_ == RaftRole::kLeader) maybe_advance_commit();
  check_invariants();
}

void RaftNode::on_snapshot_ready(SnapshotMeta snapshot) {
  DENGINE_CHECK_MSG(snapshot.index <= log_.applied(),
                    "snapshot at " + std::to_string(snapshot.index) + " past applied " +
                        std::to_string(log_.applied()));
  if (snapshot.index <= latest_snapshot_.index) return;
  DENGINE_CHECK(log_.term_at(snapshot.index) == snapshot.term);
  latest_snapshot_ = std::move(snapshot);
  // Compaction stops at what the state machine made durable itself; a few entries stay for
  // followers that are only slightly behind.
  const Index trailing = config_.compaction_trailing_entries;
  const Index index = latest_snapshot_.index;
  const Index compact_to = std::min(index > trailing ? index - trailing : 0, log_.stable());
  if (compact_to > log_.snapshot_index()) {
    log_.compact(compact_to);
    compact_to_ = compact_to;
  }
  check_invariants();
}

void RaftNode::report_snapshot_failed(NodeId to) {
  if (role_ != RaftRole::kLeader) return;
  auto it = progress_.find(to);
  if (it == progress_.end() || it->second.state() != Progress::State::kSnapshot) return;
  it->second.become_probe();
  check_invariants();
}

void RaftNode::on_applied(Index index) {
  log_.applied_to(index);
  check_invariants();
}

void RaftNode::send(Message message) {
  message.from = id();
  if (term_ > durable_term_) {
    awaiting_next_write_.push_back(std::move(message));
    return;
  }
  outbox_.push_back(std::move(message));
}

void RaftNode::send_after_persist(Message message) {
  message.from = id();
  awaiting_next_write_.push_back(std::move(message));
}

bool RaftNode::has_ready() const {
  const HardState hard_state{term_, vote_, log_.committed()};
  return !outbox_.empty() || !awaiting_next_write_.empty() || broadcast_pending_ ||
         log_.has_unwritten() || hard_state != last_handed_hard_state_ ||
         log_.has_entries_to_apply() || SoftState{leader_, role_} != last_reported_soft_state_ ||
         !read_states_.empty() || !aborted_reads_.empty() || snapshot_to_install_ ||
         compact_to_ != 0 || (role_ == RaftRole::kLeader && heartbeat_rounds_.has_queued_reads());
}

Ready RaftNode::take_ready() {
  if (broadcast_pending_) {
    broadcast_pending_ = false;
    if (role_ == RaftRole::kLeader) broadcast_append();
  }
  // Reads that arrived since the last Ready share one heartbeat round (thesis §6.4 batching).
  if (role_ == RaftRole::kLeader && heartbeat_rounds_.has_queued_reads()) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
  Ready ready;
  const HardState hard_state{term_, vote_, log_.committed()};
  if (hard_state != last_handed_hard_state_) {
    ready.hard_state = hard_state;
    last_handed_hard_state_ = hard_state;
  }
  ready.snapshot = std::move(snapshot_to_install_);
  snapshot_to_install_.reset();
  ready.compact_to = compact_to_;
  compact_to_ = 0;
  ready.entries = log_.take_unwritten();
  if (ready.hard_state || !ready.entries.empty() || ready.snapshot) {
    ready.write_id = ++last_write_id_;
    pending_writes_.push_back(PendingWrite{.write_id = ready.write_id,
                                           .last_index = log_.written(),
                                           .last_term = log_.term_at(log_.written()).value_or(0),
                                           .term = last_handed_hard_state_.term,
                                           .released_when_durable = {}});
  }
  // Messages that need durability wait for the newest write; with none outstanding, all that
  // they depend on is already durable.
  if (!awaiting_next_write_.empty()) {
    if (pending_writes_.empty()) {
      for (Message& message : awaiting_next_write_) outbox_.push_back(std::move(message));
    } else {
      auto& held = pending_writes_.back().released_when_durable;
      for (Message& message : awaiting_next_write_) held.push_back(std::move(message));
    }
    awaiting_next_write_.clear();
  }
  ready.messages = std::move(outbox_);
  outbox_.clear();
  ready.committed_entries = log_.take_entries_to_apply(config_.max_apply_bytes);
  // A configuration takes effect as its entry goes to the apply worker (as in etcd-raft).
  for (const Entry& entry : ready.committed_entries) {
    if (entry.type == EntryType::kConfChange) apply_conf_change(entry);
  }
  maybe_leave_joint();
  ready.read_states = std::move(read_states_);
  read_states_.clear();
  ready.aborted_reads = std::move(aborted_reads_);
  aborted_reads_.clear();
  const SoftState soft_state{leader_, role_};
  if (soft_state != last_reported_soft_state_) {
    ready.soft_state = soft_state;
    last_reported_soft_state_ = soft_state;
  }
  return ready;
}

const Progress* RaftNode::progress_of(NodeId node) const {
  auto it = progress_.find(node);
  return it == progress_.end() ? nullptr : &it->second;
}

void RaftNode::check_invariants() {
  // Raft §5.1: terms only grow.
  DENGINE_CHECK(term_ >= checked_term_);
  // Commit never decreases and never passes the log.
  DENGINE_CHECK(log_.committed() >= checked_commit_);
  DENGINE_CHECK(log_.committed() <= log_.last_index());
  DENGINE_CHECK(log_.applied() <= log_.applying());
  DENGINE_CHECK(log_.applying() <= log_.committed());
  // Applied entries are durable; a snapshot being installed is made durable before the image
  // is (the Ready contract), so it may run ahead of `stable` until then.
  DENGINE_CHECK(log_.applying() <= std::max(log_.stable(), log_.snapshot_index()));
  DENGINE_CHECK(log_.stable() <= log_.written());
  DENGINE_CHECK(log_.written() <= log_.last_index());
  if (role_ == RaftRole::kCandidate || role_ == RaftRole::kLeader) DENGINE_CHECK(vote_ == id());
  // A configuration always has voters to decide with, and a learner is never also a voter.
  DENGINE_CHECK(!membership_.voters.incoming().voters().empty());
  for (NodeId learner : membership_.learners) DENGINE_CHECK(!membership_.voters.contains(learner));
  if (role_ == RaftRole::kLeader) {
    DENGINE_CHECK(leader_ == id());
    DENGINE_CHECK(forwarded_reads_.empty());
    // What a leader commits on its own authority is held durably by a quorum.
    const Index durable_quorum = membership_.voters.committed_index(
        [this](NodeId node) { return node == id() ? log_.stable() : progress_.at(node).match(); });
    DENGINE_CHECK_MSG(log_.committed() <= std::max(durable_quorum, commit_floor_),
                      "commit " + std::to_string(log_.committed()) + " passes durable quorum " +
                          std::to_string(durable_quorum));
  }
  checked_term_ = term_;
  checked_commit_ = log_.committed();
}

}  // namespace dengine::raft
