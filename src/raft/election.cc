// Leader election (Raft §5.2, §5.4.1) with pre-vote and check-quorum (thesis §9.6, §6.2).

#include <string>

#include "common/check.h"
#include "common/splitmix64.h"
#include "raft/raft_node.h"

namespace dengine::raft {

void RaftNode::reset_randomized_election_timeout() {
  // Raft §5.2: randomized timeouts make split votes rare. A seeded generator keeps the core
  // deterministic.
  const uint64_t z = splitmix64_next(random_state_);
  const auto timeout = static_cast<uint64_t>(config_.election_timeout_ticks);
  randomized_election_timeout_ = static_cast<int>(timeout + z % timeout);
}

bool RaftNode::hears_from_leader() const {
  const bool may_back_a_lease = booting_ && config_.lease_duration_nanos > 0;
  return config_.check_quorum && (leader_ != kNoNode || may_back_a_lease) &&
         election_elapsed_ < config_.election_timeout_ticks;
}

void RaftNode::become_follower(Term term, NodeId leader) {
  DENGINE_CHECK(term >= term_);
  if (role_ == RaftRole::kLeader) {
    abort_reads();
    lease_expiry_nanos_ = 0;
    transfer_target_ = kNoNode;
    removed_at_ = 0;
  }
  if (term > term_ || leader != leader_) abort_forwarded_reads();
  if (term > term_) {
    term_ = term;
    vote_ = kNoNode;  // Raft Figure 2: votedFor is per term
  }
  role_ = RaftRole::kFollower;
  leader_ = leader;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  votes_.clear();
  progress_.clear();
  uncommitted_bytes_ = 0;
  broadcast_pending_ = false;
  reset_randomized_election_timeout();
}

Status RaftNode::campaign() {
  const std::vector<NodeId> voters = membership_.voters.all_voters();
  if (voters.size() != 1 || voters.front() != id()) {
    return Status::failed_precondition("raft: only the sole voter may campaign at once");
  }
  if (role_ == RaftRole::kLeader) return Status::ok();
  election_elapsed_ = 0;
  start_election();
  return Status::ok();
}

void RaftNode::start_election() {
  if (config_.pre_vote) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
}

void RaftNode::become_pre_candidate() {
  // Thesis §9.6: neither term nor vote changes, so a failed pre-vote disturbs no one.
  role_ = RaftRole::kPreCandidate;
  abort_forwarded_reads();
  leader_ = kNoNode;
  election_elapsed_ = 0;
  votes_.clear();
  votes_[id()] = true;
  reset_randomized_election_timeout();
  if (membership_.voters.vote_result(votes_) == VoteResult::kWon) {
    become_candidate();
    return;
  }
  for (NodeId voter : membership_.voters.all_voters()) {
    if (voter == id()) continue;
    send(Message{.type = MessageType::kPreVote,
                 .to = voter,
                 .term = term_ + 1,
                 .index = log_.last_index(),
                 .log_term = log_.last_term()});
  }
}

void RaftNode::become_candidate(bool transfer) {
  // Raft §5.2: increment currentTerm, vote for self, request votes from the others.
  term_ += 1;
  vote_ = id();
  role_ = RaftRole::kCandidate;
  abort_forwarded_reads();
  leader_ = kNoNode;
  // A pre-vote may have taken several ticks; the election gets its own full timeout.
  election_elapsed_ = 0;
  // Figure 2: our own vote counts only once it is on stable storage (on_persisted), so that a
  // lone voter cannot lead a term it might forget in a crash.
  votes_.clear();
  reset_randomized_election_timeout();
  for (NodeId voter : membership_.voters.all_voters()) {
    if (voter == id()) continue;
    // The new term and our own vote must be durable before anyone can act on them: a
    // candidate that forgot its vote after a crash could vote twice in this term.
    send_after_persist(Message{.type = MessageType::kVote,
                               .to = voter,
                               .term = term_,
                               .index = log_.last_index(),
                               .log_term = log_.last_term(),
                               .context = transfer ? kTransferCampaign : 0});
  }
}

void RaftNode::become_leader() {
  DENGINE_CHECK(role_ == RaftRole::kCandidate);
  role_ = RaftRole::kLeader;
  abort_forwarded_reads();
  leader_ = id();
  votes_.clear();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  commit_floor_ = log_.committed();
  // An uncommitted change may sit in the log; no new one before everything up to here applies.
  pending_conf_index_ = log_.last_index() + 1;
  uncommitted_bytes_ = 0;
  lease_expiry_nanos_ = 0;
  lease_forfeited_ = false;
  transfer_target_ = kNoNode;
  removed_at_ = 0;
  pending_reads_ = 0;
  reset_progress();
  // Thesis §6.4 / Raft §5.4.2: a leader cannot know which earlier entries are committed
  // until one of its own term is; a no-op at the start of the term settles it promptly.
  log_.append(
      Entry{.term = term_, .index = log_.last_index() + 1, .type = EntryType::kNoOp, .data = {}});
  broadcast_pending_ = true;
}

void RaftNode::handle_vote_request(const Message& request) {
  const bool pre_vote = request.type == MessageType::kPreVote;
  // Raft §5.2: at most one vote per term, first come first served. A repeated request from
  // the candidate we voted for is granted again (our answer may have been lost). A pre-vote
  // for a later term is granted as a vote in that term would be.
  const bool can_vote = vote_ == request.from || (vote_ == kNoNode && leader_ == kNoNode) ||
                        (pre_vote && request.term > term_);
  // Raft §5.4.1: only for a candidate whose log is at least as up-to-date as ours, so every
  // leader holds all committed entries.
  const bool up_to_date = log_.candidate_is_up_to_date(request.index, request.log_term);
  const MessageType response_type =
      pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;

  if (!can_vote || !up_to_date) {
    send_after_persist(
        Message{.type = response_type, .to = request.from, .term = term_, .reject = true});
    return;
  }
  if (!pre_vote) {
    vote_ = request.from;
    election_elapsed_ = 0;
  }
  // A granted pre-vote answers with the term it was asked about, so the candidate can tell it
  // from a stale answer.
  send_after_persist(Message{.type = response_type, .to = request.from, .term = request.term});
}

void RaftNode::count_own_vote_once_durable() {
  if (role_ != RaftRole::kCandidate || durable_term_ < term_ || votes_.count(id()) != 0) return;
  votes_[id()] = true;
  tally_votes(/*pre_vote=*/false);
}

void RaftNode::tally_votes(bool pre_vote) {
  switch (membership_.voters.vote_result(votes_)) {
    case VoteResult::kWon:
      if (pre_vote) {
        become_candidate();
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost: become_follower(term_, kNoNode); break;
    case VoteResult::kPending: break;
  }
}

void RaftNode::handle_vote_response(const Message& response) {
  const bool pre_vote = response.type == MessageType::kPreVoteResponse;
  if (pre_vote ? role_ != RaftRole::kPreCandidate : role_ != RaftRole::kCandidate) return;
  // A stale answer to an older campaign.
  if (pre_vote && !response.reject && response.term != term_ + 1) return;
  votes_.emplace(response.from, !response.reject);
  tally_votes(pre_vote);
}

}  // namespace dengine::raft
