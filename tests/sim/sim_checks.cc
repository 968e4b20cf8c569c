// The safety properties of Raft Figure 3, checked after every step, and the end-of-run checks:
// log matching across nodes, linearizability of the client history, and liveness.

#include <algorithm>
#include <string>

#include "raft/conf_change_codec.h"
#include "tests/sim/simulation.h"

namespace dengine::sim {
namespace {

uint64_t fingerprint_key(Index index, Term term) {
  return (index << 32) ^ term;
}

std::string n_str(NodeId id) {
  return "n" + std::to_string(id);
}

}  // namespace

bool Simulation::vote_is_own(const Node& n) {
  return n.raft->vote() == n.id;
}

namespace {}  // namespace

void Simulation::check_node(Node& n) {
  const raft::RaftNode& raft = *n.raft;
  const RaftRole role = raft.role();
  const Term term = raft.term();

  // An election is a campaign that raised the term (pre-votes that failed do not count).
  if (term > n.last_term && vote_is_own(n)) ++stats_.elections;
  if (role == RaftRole::kLeader && (n.last_role != RaftRole::kLeader || term != n.last_term)) {
    ++stats_.leader_changes;
    trace(n_str(n.id) + " becomes LEADER of term " + std::to_string(term));
    // Election Safety: at most one leader per term.
    auto [it, inserted] = leader_of_term_.emplace(term, n.id);
    if (!inserted && it->second != n.id) {
      fail("election safety: " + n_str(n.id) + " and " + n_str(it->second) + " both lead term " +
           std::to_string(term));
      return;
    }
    check_leader_completeness(n);
    if (n.transfer_requested) ++stats_.leader_transfers_completed;
    for (Node& other : nodes_) other.transfer_requested = false;
    maybe_crash_new_leader(n);
    n.leader_last_index = raft.log().last_index();
    n.leader_last_term = term;
  }
  // Leader Append-Only: within its term, a leader's log only grows.
  if (role == RaftRole::kLeader && n.leader_last_term == term) {
    const Index previous_last = n.leader_last_index;
    if (raft.log().last_index() < previous_last || raft.log().term_at(previous_last) > term) {
      fail("leader append-only: " + n_str(n.id) + " lost entries up to " +
           std::to_string(previous_last));
      return;
    }
    n.leader_last_index = raft.log().last_index();
  }
  n.last_role = role;
  n.last_term = term;
  check_log_matching(n);
  record_commits(n);
  check_commit_is_safe();
}

// Commit Safety, the forward form of Leader Completeness: once an entry is committed, no log
// that lacks it can win an election — not even with votes from nodes that crash and come back
// with only their durable logs. This fails at the moment of an unsafe commit (counting an
// older term's replicas, acknowledging before fsync) instead of waiting for the rare schedule
// of crashes that would turn it into lost data.
void Simulation::check_commit_is_safe() {
  if (committed_.empty()) return;
  const Index commit = committed_.size();
  const Term commit_term = committed_.back().term;
  struct LogTip {
    Index index;
    Term term;
  };
  auto durable_tip = [](const Node& n) {
    return LogTip{n.durable_last_index(), n.durable_last_term()};
  };
  for (const Node& x : nodes_) {
    // The candidate counts votes in its own configuration, however stale.
    const raft::Membership membership = membership_of(x);
    if (!membership.voters.contains(x.id)) continue;  // it does not campaign
    LogTip tips[2];
    bool lacks[2];
    size_t count = 0;
    tips[count] = durable_tip(x);
    // Entries at or below the offset are covered by a durable image of committed state.
    lacks[count] = commit > x.durable_log_offset && x.durable_term_at(commit) != commit_term;
    ++count;
    if (x.up) {
      const raft::RaftLog& log = x.raft->log();
      tips[count] = LogTip{log.last_index(), log.last_term()};
      lacks[count] = commit > log.snapshot_index() && log.term_at(commit) != commit_term;
      ++count;
    }
    for (size_t t = 0; t < count; ++t) {
      if (!lacks[t]) continue;
      size_t votes = 0;
      const LogTip tip = tips[t];
      auto grants = [&](NodeId voter_id) {
        if (voter_id == x.id) return true;
        if (voter_id < 1 || voter_id > nodes_.size()) return false;
        const LogTip v = durable_tip(node(voter_id));
        // Raft §5.4.1, as the voter would judge it.
        return tip.term > v.term || (tip.term == v.term && tip.index >= v.index);
      };
      for (NodeId voter : membership.voters.all_voters()) votes += grants(voter) ? 1 : 0;
      if (membership.voters.quorum_satisfies(grants)) {
        fail("commit safety: index " + std::to_string(commit) + " (term " +
             std::to_string(commit_term) + ") is committed, but " + n_str(x.id) +
             (t == 0 ? " (durable log" : " (log") + " ending at " + std::to_string(tips[t].index) +
             " term " + std::to_string(tips[t].term) + ") lacks it and could collect " +
             std::to_string(votes) + " votes");
        return;
      }
    }
  }
}

// Log Matching: two entries with the same index and term hold the same command and follow
// entries of the same term. Checked incrementally: every (index, term) ever seen on any node
// is fingerprinted, and each node's new entries must agree with the fingerprints.
void Simulation::check_log_matching(Node& n) {
  const raft::RaftLog& log = n.raft->log();
  std::deque<Term>& verified = n.verified_terms;
  // Drop the verified suffix that the node has since overwritten (or replaced by a snapshot).
  while (!verified.empty()) {
    const Index last_verified = n.verified_offset + verified.size();
    if (last_verified <= log.last_index() && log.term_at(last_verified) == verified.back()) break;
    forget_verified(n, last_verified, verified.back());
    verified.pop_back();
  }
  // Compacted entries need no more checking.
  while (n.verified_offset < log.snapshot_index()) {
    if (!verified.empty()) {
      forget_verified(n, n.verified_offset + 1, verified.front());
      verified.pop_front();
    }
    ++n.verified_offset;
  }
  for (Index index = n.verified_offset + verified.size() + 1; index <= log.last_index(); ++index) {
    const Entry& entry = log.at(index);
    const Term previous_term = log.term_at(index - 1).value_or(0);
    const EntryFingerprint fingerprint{entry_hash(entry), previous_term, 0};
    auto [it, inserted] = fingerprints_.emplace(fingerprint_key(index, entry.term), fingerprint);
    if (!inserted && (it->second.hash != fingerprint.hash ||
                      it->second.previous_term != fingerprint.previous_term)) {
      fail("log matching: " + n_str(n.id) + " holds a different entry at index " +
           std::to_string(index) + " term " + std::to_string(entry.term));
      return;
    }
    ++it->second.holders;
    verified.push_back(entry.term);
  }
}

void Simulation::forget_verified(Node& /*node*/, Index index, Term term) {
  auto it = fingerprints_.find(fingerprint_key(index, term));
  if (it == fingerprints_.end()) return;
  if (--it->second.holders == 0) fingerprints_.erase(it);
}

// Leader Completeness: a leader holds every entry committed in an earlier term.
void Simulation::check_leader_completeness(Node& n) {
  const raft::RaftLog& log = n.raft->log();
  const Term term = n.raft->term();
  // Entries behind its snapshot are in its image, which the state checks compare.
  for (Index index = log.snapshot_index() + 1; index <= committed_.size(); ++index) {
    const CommittedEntry& entry = committed_[index - 1];
    if (entry.known_committed_in >= term) continue;
    if (log.term_at(index) != entry.term) {
      fail("leader completeness: " + n_str(n.id) + " leads term " + std::to_string(term) +
           " without the entry committed at index " + std::to_string(index) + " (term " +
           std::to_string(entry.term) + ")");
      return;
    }
  }
}

// State Machine Safety, in its log form: once any node reports an index committed, every node
// that reports it committed holds the same entry there.
void Simulation::record_commits(Node& n) {
  const raft::RaftLog& log = n.raft->log();
  const Term term = n.raft->term();
  // What a snapshot covers was recorded by the node that made the image.
  n.commits_verified = std::max(n.commits_verified, log.snapshot_index());
  for (Index index = n.commits_verified + 1; index <= log.committed(); ++index) {
    const Entry& entry = log.at(index);
    if (index > committed_.size()) {
      committed_.push_back(CommittedEntry{entry.term, entry_hash(entry), term});
      ++stats_.entries_committed;
      continue;
    }
    CommittedEntry& known = committed_[index - 1];
    if (known.term != entry.term || known.hash != entry_hash(entry)) {
      fail("state machine safety: " + n_str(n.id) + " committed a different entry at index " +
           std::to_string(index) + " (term " + std::to_string(entry.term) + ", first seen term " +
           std::to_string(known.term) + ")");
      return;
    }
    known.known_committed_in = std::min(known.known_committed_in, term);
  }
  n.commits_verified = std::max(n.commits_verified, log.committed());
}

raft::Membership Simulation::membership_of(const Node& n) const {
  if (n.up) return raft::Membership::from(n.raft->conf_state_at_commit());
  // After a restart: the image's configuration, then every change in the durable log up to the
  // durable commit index.
  std::vector<NodeId> all;
  for (const Node& peer : nodes_) all.push_back(peer.id);
  raft::Membership membership = raft::Membership::from(
      n.durable_image && !n.durable_image->meta.conf.voters.empty() ? n.durable_image->meta.conf
                                                                    : ConfState{.voters = all});
  const Index from = n.durable_image ? n.durable_image->meta.index : 0;
  for (const Entry& entry : n.durable_log) {
    if (entry.index <= from || entry.index > n.durable_hard_state.commit) continue;
    if (entry.type != EntryType::kConfChange) continue;
    Result<raft::ConfChangeEntry> decoded = raft::decode_conf_change(entry.data);
    if (!decoded) continue;
    Result<raft::Membership> next = raft::next_membership(membership, *decoded);
    if (next) membership = std::move(*next);
  }
  return membership;
}

// Lease safety (thesis §6.4.1): a leader may serve from its lease only while no other leader can
// exist — the voters that backed the lease refuse to vote until after it expires. So a lease
// read in term T must never see that a leader of a later term was already elected.
void Simulation::check_lease_read(const Node& n) {
  const Term term = n.raft->term();
  auto later = leader_of_term_.upper_bound(term);
  if (later != leader_of_term_.end()) {
    fail("lease safety: " + n_str(n.id) + " served a lease read in term " + std::to_string(term) +
         " after " + n_str(later->second) + " was elected leader of term " +
         std::to_string(later->first));
  }
}

void Simulation::check_final() {
  // Liveness: after the faults stopped, a leader exists and every client got an answer.
  const Node* leader = nullptr;
  for (const Node& n : nodes_) {
    if (n.up && n.raft->role() == RaftRole::kLeader &&
        (leader == nullptr || n.raft->term() > leader->raft->term())) {
      leader = &n;
    }
  }
  if (leader == nullptr) {
    fail("liveness: no leader " + std::to_string(options_.liveness_bound / 1000) +
         "ms after the faults stopped");
    return;
  }
  for (const Client& client : clients_) {
    if (!client.succeeded_after_heal) {
      fail("liveness: client " + std::to_string(client.id) + " completed no operation within " +
           std::to_string(options_.liveness_bound / 1000) + "ms after the faults stopped");
      return;
    }
  }
  // Log Matching across every pair of nodes, over their whole logs.
  for (size_t a = 0; a < nodes_.size(); ++a) {
    for (size_t b = a + 1; b < nodes_.size(); ++b) {
      const raft::RaftLog& la = nodes_[a].raft->log();
      const raft::RaftLog& lb = nodes_[b].raft->log();
      const Index first = std::max(la.snapshot_index(), lb.snapshot_index()) + 1;
      Index last_common = std::min(la.last_index(), lb.last_index());
      while (last_common >= first && la.term_at(last_common) != lb.term_at(last_common)) {
        --last_common;
      }
      for (Index index = first; index <= last_common; ++index) {
        if (!(la.at(index) == lb.at(index))) {
          fail("log matching: " + n_str(nodes_[a].id) + " and " + n_str(nodes_[b].id) +
               " agree at index " + std::to_string(last_common) + " but differ at " +
               std::to_string(index));
          return;
        }
      }
    }
  }
  // Operations still waiting have an unknown outcome.
  for (Client& client : clients_) {
    if (client.op && client.op->node != kNoNode) {
      KvOperation record = client.op->record;
      record.outcome_known = false;
      history_.push_back(record);
    }
  }
  const LinearizabilityResult verdict = check_linearizable(history_);
  if (verdict.verdict == Verdict::kNotLinearizable) {
    fail("linearizability: " + verdict.explanation);
  } else if (verdict.verdict == Verdict::kInconclusive) {
    fail("linearizability check inconclusive: " + verdict.explanation);
  }
}

}  // namespace dengine::sim
