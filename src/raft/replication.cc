// Log replication and commitment (Raft §5.3, §5.4.2) with etcd-raft's flow control.

#include <algorithm>
#include <string>

#include "common/check.h"
#include "raft/raft_node.h"

namespace dengine::raft {

Progress& RaftNode::progress(NodeId node) {
  auto it = progress_.find(node);
  DENGINE_CHECK(it != progress_.end());
  return it->second;
}

void RaftNode::reset_progress() {
  progress_.clear();
  update_progress_for_membership();
}

void RaftNode::update_progress_for_membership() {
  const std::vector<NodeId> peers = membership_.peers_of(id());
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = std::binary_search(peers.begin(), peers.end(), it->first) ? std::next(it)
                                                                   : progress_.erase(it);
  }
  for (NodeId peer : peers) {
    if (progress_.count(peer) != 0) continue;
    // Raft Figure 2: nextIndex starts just after the leader's last entry; match is unknown.
    auto [it, inserted] = progress_.emplace(
        peer,
        Progress(log_.last_index() + 1, config_.max_inflight_messages, config_.max_inflight_bytes));
    // Give every follower a full election timeout before check-quorum may count it absent.
    it->second.set_recent_active(true);
  }
}

bool RaftNode::send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress(to);
  if (pr.is_paused()) return false;
  const Index prev_index = pr.next() - 1;
  const std::optional<Term> prev_term = log_.term_at(prev_index);
  if (!prev_term) {
    // Raft §7: the entries this follower needs were compacted; send the image instead.
    send_snapshot(to);
    return true;
  }
  std::vector<Entry> entries = log_.slice(pr.next(), config_.max_append_bytes);
  if (entries.empty() && !send_if_empty) return false;
  uint64_t bytes = 0;
  for (const Entry& entry : entries) bytes += entry.data.size();
  const Index last_sent = entries.empty() ? prev_index : entries.back().index;
  if (!entries.empty() || pr.state() == Progress::State::kProbe) pr.sent_entries(last_sent, bytes);
  send(Message{.type = MessageType::kAppend,
               .to = to,
               .term = term_,
               .index = prev_index,
               .log_term = *prev_term,
               .entries = std::move(entries),
               .commit = log_.committed()});
  return true;
}

void RaftNode::send_snapshot(NodeId to) {
  DENGINE_CHECK_MSG(latest_snapshot_.index >= log_.snapshot_index() && latest_snapshot_.index > 0,
                    "log compacted behind no snapshot");
  progress(to).become_snapshot(latest_snapshot_.index);
  Message message{.type = MessageType::kSnapshot,
                  .to = to,
                  .term = term_,
                  .index = latest_snapshot_.index,
                  .log_term = latest_snapshot_.term,
                  .commit = log_.committed()};
  message.snapshot = latest_snapshot_;
  send(std::move(message));
}

void RaftNode::handle_snapshot(const Message& message) {
  election_elapsed_ = 0;
  leader_ = message.from;
  const SnapshotMeta& snapshot = message.snapshot;
  // We hold what it covers already: committed, or (Raft §7) "if existing log entry has same
  // index and term as snapshot's last included entry, retain log entries following it" — and
  // the snapshot proves them committed.
  if (snapshot.index <= log_.committed() || log_.matches(snapshot.index, snapshot.term)) {
    log_.commit_to(snapshot.index);
    send_after_persist(Message{.type = MessageType::kAppendResponse,
                               .to = message.from,
                               .term = term_,
                               .index = log_.committed(),
                               .commit = log_.committed()});
    return;
  }
  // Raft §7: "discard the entire log", restore from the image and its configuration.
  log_.restore(snapshot);
  if (!snapshot.conf.voters.empty()) membership_ = Membership::from(snapshot.conf);
  latest_snapshot_ = snapshot;
  snapshot_to_install_ = snapshot;
  send_after_persist(Message{.type = MessageType::kAppendResponse,
                             .to = message.from,
                             .term = term_,
                             .index = snapshot.index,
                             .commit = log_.committed()});
}

void RaftNode::broadcast_append() {
  for (auto& [node, pr] : progress_) send_append(node, /*send_if_empty=*/true);
}

void RaftNode::broadcast_heartbeat() {
  std::vector<PendingRead> aborted;
  const uint64_t round = heartbeat_rounds_.start_round(clock_nanos_, &aborted);
  for (const PendingRead& read : aborted) {
    --pending_reads_;
    abort_read(read);
  }
  for (auto& [node, pr] : progress_) {
    pr.sent_heartbeat();
    // A follower must not learn a commit index past what it is known to hold: its log beyond
    // match may still diverge from ours.
    send(Message{.type = MessageType::kHeartbeat,
                 .to = node,
                 .term = term_,
                 .index = pr.next() - 1,
                 .commit = std::min(pr.match(), log_.committed()),
                 .context = round});
  }
}

void RaftNode::handle_append(const Message& append) {
  election_elapsed_ = 0;
  leader_ = append.from;
  if (append.index < log_.committed()) {
    // Everything up to our commit index matches any current leader's log already; this is a
    // duplicate or reordered message.
    send_after_persist(Message{.type = MessageType::kAppendResponse,
                               .to = append.from,
                               .term = term_,
                               .index = log_.committed(),
                               .commit = log_.committed()});
    return;
  }
  // Raft §5.3 step 2: reply false if the log has no entry at prevLogIndex with prevLogTerm.
  if (!log_.matches(append.index, append.log_term)) {
    const Index hint_index = log_.last_index_with_term_at_most(
        std::min(append.index, log_.last_index()), append.log_term);
    send_after_persist(Message{.type = MessageType::kAppendResponse,
                               .to = append.from,
                               .term = term_,
                               .index = append.index,
                               .reject = true,
                               .hint_index = hint_index,
                               .hint_term = log_.term_at(hint_index).value_or(0)});
    return;
  }
  const Index last_new = log_.merge(append.index, append.entries);
  // Raft §5.3 step 5: commitIndex = min(leaderCommit, index of last new entry); entries past
  // last_new are not known to match the leader's.
  log_.commit_to(std::min(append.commit, last_new));
  // Figure 2: acknowledge only once the entries are on stable storage.
  send_after_persist(Message{.type = MessageType::kAppendResponse,
                             .to = append.from,
                             .term = term_,
                             .index = last_new,
                             .commit = log_.committed()});
}

void RaftNode::handle_heartbeat(const Message& heartbeat) {
  election_elapsed_ = 0;
  leader_ = heartbeat.from;
  log_.commit_to(std::min(heartbeat.commit, log_.last_index()));
  // Links are FIFO in practice, so a log that ends before what the leader had sent when it sent
  // this heartbeat lost appends on the way; say so, or a streaming leader would never resend.
  send(Message{.type = MessageType::kHeartbeatResponse,
               .to = heartbeat.from,
               .term = term_,
               .index = heartbeat.index,
               .commit = log_.committed(),
               .reject = log_.last_index() < heartbeat.index,
               .hint_index = log_.last_index(),
               .context = heartbeat.context});
}

void RaftNode::handle_append_response(const Message& response) {
  Progress& pr = progress(response.from);
  pr.on_answer();
  pr.note_commit_known(response.commit);
  if (removed_at_ != 0) {
    maybe_step_down_after_removal();
    if (role_ != RaftRole::kLeader) return;
  }
  if (response.reject) {
    if (pr.state() == Progress::State::kSnapshot) return;  // answers an append sent before it
    // Skip back over the follower's whole conflicting term in one round trip: the first index
    // that can match is at or before the last one where our term is <= the follower's.
    Index hint = response.hint_index;
    if (response.hint_term > 0) hint = log_.last_index_with_term_at_most(hint, response.hint_term);
    if (pr.maybe_decrease_next(response.index, hint)) {
      if (pr.state() == Progress::State::kReplicate) pr.become_probe();
      send_append(response.from, /*send_if_empty=*/true);
    }
    return;
  }
  if (pr.state() == Progress::State::kSnapshot) {
    pr.maybe_update(response.index);
    // Stale answers (to appends sent before the snapshot) leave it waiting for the image's.
    if (pr.match() < pr.pending_snapshot()) return;
    pr.become_replicate();
    maybe_send_timeout_now(response.from);
    maybe_advance_commit();
    while (send_append(response.from, /*send_if_empty=*/false)) {
    }
    return;
  }
  const bool was_paused = pr.is_paused();
  if (!pr.maybe_update(response.index)) {
    // No progress, but a full window may have opened.
    if (was_paused && !pr.is_paused()) send_append(response.from, false);
    return;
  }
  if (pr.state() == Progress::State::kProbe) pr.become_replicate();
  maybe_send_timeout_now(response.from);
  maybe_advance_commit();
  // Keep the follower's window full.
  while (send_append(response.from, /*send_if_empty=*/false)) {
  }
}

void RaftNode::handle_heartbeat_response(const Message& response) {
  Progress& pr = progress(response.from);
  pr.on_answer();
  pr.resume_probe();
  pr.note_commit_known(response.commit);
  confirm_heartbeat_round(response.from, response.context);
  if (removed_at_ != 0) {
    maybe_step_down_after_removal();
    if (role_ != RaftRole::kLeader) return;
  }
  if (pr.match() >= log_.last_index()) return;
  if (pr.state() == Progress::State::kSnapshot) {
    // Neither the installed image's answer nor a failure report came: send it again.
    if (pr.note_heartbeat_during_snapshot() > config_.election_timeout_ticks) {
      pr.become_probe();
      send_append(response.from, /*send_if_empty=*/true);
    }
    return;
  }
  if (pr.state() != Progress::State::kReplicate) {
    send_append(response.from, /*send_if_empty=*/true);
    return;
  }
  if (response.reject) {
    // Streamed appends were lost: probe again from where the follower's log ends.
    pr.become_probe(response.hint_index + 1);
    send_append(response.from, /*send_if_empty=*/true);
    return;
  }
  if (pr.acknowledged_since_heartbeat()) return;
  // The follower holds what we sent but no acknowledgement came back since the last heartbeat;
  // with the window full that would stall replication for good. An empty append at next - 1
  // draws a fresh acknowledgement of everything.
  const Index prev_index = pr.next() - 1;
  send(Message{.type = MessageType::kAppend,
               .to = response.from,
               .term = term_,
               .index = prev_index,
               .log_term = log_.term_at(prev_index).value_or(0),
               .commit = log_.committed()});
}

// Raft §5.4.2: a leader only commits entries from its own term by counting replicas; older
// entries become committed indirectly, once an entry of this term is.
void RaftNode::maybe_advance_commit() {
  const Index quorum_index = membership_.voters.committed_index([this](NodeId node) {
    // Thesis §10.2.1: the leader's own copy counts once it is durable.
    return node == id() ? log_.stable() : progress(node).match();
  });
  if (quorum_index <= log_.committed()) return;
  if (log_.term_at(quorum_index) != term_) return;
  DENGINE_CHECK(quorum_index <= log_.last_index());  // a majority cannot hold more than we sent
  for (Index index = log_.committed() + 1; index <= quorum_index; ++index) {
    const uint64_t size = log_.at(index).data.size();
    uncommitted_bytes_ -= std::min(uncommitted_bytes_, size);
  }
  log_.commit_to(quorum_index);
  release_reads_awaiting_term_commit();
  // Followers learn the new commit index from an append; one per Ready, however many
  // acknowledgements moved it.
  broadcast_pending_ = true;
}

// Thesis §6.2: a leader that cannot reach a quorum within an election timeout steps down, so
// clients stop waiting on it and a partitioned leader stops claiming leadership.
void RaftNode::check_quorum_or_step_down() {
  const bool quorum_active = membership_.voters.quorum_satisfies(
      [this](NodeId node) { return node == id() || progress(node).recent_active(); });
  for (auto& [node, pr] : progress_) pr.end_activity_round();
  if (!quorum_active) become_follower(term_, kNoNode);
}

}  // namespace dengine::raft
