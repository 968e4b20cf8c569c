#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "raft/heartbeat_rounds.h"
#include "raft/joint_config.h"
#include "raft/majority.h"
#include "raft/progress.h"
#include "raft/raft_config.h"
#include "raft/raft_log.h"
#include "raft/raft_message.h"
#include "raft/ready.h"

namespace dengine::raft {

// The pure Raft state machine: no I/O, no clock, no threads, no hidden randomness. Inputs are
// tick(), step(), propose() and the storage completions; every output is collected into the
// next Ready (see raft/ready.h for the contract). Not thread-safe: one owner drives it.
//
// Section numbers cite the Raft paper (§5.x) and Ongaro's dissertation ("thesis §x.y").
class RaftNode {
 public:
  static Result<std::unique_ptr<RaftNode>> create(RaftConfig config, RaftBootState boot);

  // ---- inputs ----
  // One logical clock tick; the caller decides its length.
  void tick();
  void step(const Message& message);
  // Appends a command to the leader's log and returns its index. Fails with kNotLeader (the
  // message names the leader when known), kInvalidArgument when the entry is over
  // max_entry_bytes, or kResourceExhausted when the uncommitted log is full.
  Result<Index> propose(std::string data);
  // Linearizable read (thesis §6.4): once confirmed, a ReadState with this id and the index the
  // state machine must reach appears in a Ready (or the id in aborted_reads). Followers forward
  // the request to the leader. Fails with kUnavailable when no leader is known and
  // kResourceExhausted when max_pending_reads are waiting.
  Status read_index(uint64_t request_id);
  // Lease read (thesis §6.4.1): the index to read at, if this leader's lease is valid at `now`
  // (nanoseconds of the monotonic clock, read at the moment the read is served). Fails with
  // kNotLeader, kFailedPrecondition (lease reads disabled) or kUnavailable (no valid lease:
  // fall back to read_index).
  Result<Index> lease_read(uint64_t now_nanos);
  // The monotonic clock now; heartbeat rounds are stamped with the latest reading, which is
  // never later than the moment they are actually sent.
  void observe_clock(uint64_t now_nanos);
  // The state machine holds a durable image up to `snapshot.index` (a flush or a checkpoint,
  // not merely applied state): the log may be compacted behind it, and lagging followers are
  // sent it. `snapshot.index` must not exceed the applied index.
  void on_snapshot_ready(SnapshotMeta snapshot);
  // The transport could not deliver the snapshot to `to`: probe it again.
  void report_snapshot_failed(NodeId to);
  // Membership change. A single change (add a voter or a learner, promote a learner, remove a
  // node) takes one step (thesis §4.1): its entry is committed under the current configuration
  // and the new one is in force once it is applied. Several changes at once go through joint
  // consensus (thesis §4.3): the entry enters the joint configuration; once it is applied the
  // leader appends the one that leaves it. Fails with kNotLeader; kFailedPrecondition while
  // another change is pending, while joint, or before the leader has committed an entry of its
  // term (the single-server-change bug fix); kInvalidArgument for a change that is not valid on
  // the current membership.
  Result<Index> propose_conf_change(std::vector<ConfChange> changes);
  // Leadership transfer (thesis §3.10): catch `target` up, then tell it to campaign at once.
  // Proposals are refused while it runs; it is abandoned after an election timeout. Fails
  // with kNotLeader, or kInvalidArgument when `target` is not another voter.
  Status transfer_leadership(NodeId target);
  // Starts an election now instead of after an election timeout. Only for the sole voter of
  // its configuration, which no other node could be leading: a single-node engine leads as
  // soon as it starts. kFailedPrecondition otherwise (other voters may hold a leader's lease on
  // this node's promise not to campaign; they wait out the timeout).
  Status campaign();
  [[nodiscard]] NodeId transfer_target() const { return transfer_target_; }
  // The write of Ready::write_id `write_id` (and so every earlier one) is durable.
  void on_persisted(uint64_t write_id);
  // The state machine has applied every entry up to `index`.
  void on_applied(Index index);

  // ---- outputs ----
  [[nodiscard]] bool has_ready() const;
  Ready take_ready();

  // ---- observers ----
  [[nodiscard]] NodeId id() const { return config_.id; }
  [[nodiscard]] Term term() const { return term_; }
  [[nodiscard]] NodeId vote() const { return vote_; }
  [[nodiscard]] RaftRole role() const { return role_; }
  [[nodiscard]] NodeId leader() const { return leader_; }
  [[nodiscard]] const RaftLog& log() const { return log_; }
  [[nodiscard]] const Membership& membership() const { return membership_; }
  // The configuration as of the entries handed to the apply worker.
  [[nodiscard]] ConfState conf_state() const { return membership_.to_conf_state(); }
  // The configuration once every entry known committed is applied: what this node will act on
  // as soon as it catches up.
  [[nodiscard]] ConfState conf_state_at_commit() const;
  [[nodiscard]] const Progress* progress_of(NodeId id) const;
  [[nodiscard]] int randomized_election_timeout_ticks() const {
    return randomized_election_timeout_;
  }

 private:
  RaftNode(RaftConfig config, RaftBootState boot);

  // election.cc
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate(bool transfer = false);
  void become_leader();
  void start_election();
  void handle_vote_request(const Message& request);
  void handle_vote_response(const Message& response);
  void tally_votes(bool pre_vote);
  void count_own_vote_once_durable();
  void reset_randomized_election_timeout();
  [[nodiscard]] bool hears_from_leader() const;

  // reads.cc
  void handle_read_index(const Message& request);
  void handle_read_index_response(const Message& response);
  void queue_read(PendingRead read);
  void release_reads_awaiting_term_commit();
  void confirm_reads(std::vector<PendingRead> reads);
  void abort_reads();
  void abort_read(const PendingRead& read);
  // A follower's ReadIndex requests the leader has not answered: failed (aborted_reads_) when
  // the leader or the term changes, or after an election timeout without an answer.
  void abort_forwarded_reads();
  void tick_forwarded_reads();
  void confirm_heartbeat_round(NodeId voter, uint64_t round_id);
  [[nodiscard]] bool committed_in_current_term() const;

  // replication.cc
  void handle_append(const Message& append);
  void handle_heartbeat(const Message& heartbeat);
  void handle_snapshot(const Message& snapshot);
  void send_snapshot(NodeId to);
  void handle_append_response(const Message& response);
  void handle_heartbeat_response(const Message& response);
  bool send_append(NodeId to, bool send_if_empty);
  void broadcast_append();
  void broadcast_heartbeat();
  void maybe_advance_commit();
  void check_quorum_or_step_down();
  void reset_progress();
  void update_progress_for_membership();
  [[nodiscard]] Progress& progress(NodeId id);

  // membership.cc
  void apply_conf_change(const Entry& entry);
  void maybe_step_down_after_removal();
  void maybe_leave_joint();

  // transfer.cc
  void send_timeout_now(NodeId to);
  void maybe_send_timeout_now(NodeId caught_up);

  // raft_node.cc
  void handle_stale_term(const Message& message);
  void send(Message message);
  // Send once everything handed to storage so far is durable (Raft Figure 2: "respond to
  // RPCs" only after updating stable storage).
  void send_after_persist(Message message);
  void tick_election();
  void tick_heartbeat();
  void check_invariants();

  RaftConfig config_;
  Membership membership_;
  RaftLog log_;

  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftRole role_ = RaftRole::kFollower;
  NodeId leader_ = kNoNode;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  uint64_t random_state_;

  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;  // leader only; every voter but this node
  uint64_t uncommitted_bytes_ = 0;       // leader only
  // Leader only: the commit index when this leader's quorums were last defined (its election or
  // its latest configuration change); see check_invariants.
  Index commit_floor_ = 0;
  bool broadcast_pending_ = false;  // leader only; proposals since the last Ready
  Index pending_conf_index_ = 0;    // leader only; the last configuration change's entry
  // Leader only: the entry whose configuration left this node out. It leads on until every
  // remaining voter knows that entry is committed, then hands over.
  Index removed_at_ = 0;

  // ---- reads ----
  HeartbeatRounds heartbeat_rounds_;                     // leader only
  std::vector<PendingRead> reads_awaiting_term_commit_;  // leader only; thesis §6.4 step 1
  size_t pending_reads_ = 0;                             // leader: all unconfirmed reads
  struct ForwardedRead {
    uint64_t request_id = 0;
    int ticks_waited = 0;
  };
  std::vector<ForwardedRead> forwarded_reads_;  // not the leader: asked of leader_ this term
  uint64_t clock_nanos_ = 0;
  uint64_t lease_expiry_nanos_ = 0;  // leader only
  // Leader only: once a TimeoutNow went out, voters may elect the target at once, so no lease
  // may be trusted for the rest of this term.
  bool lease_forfeited_ = false;
  NodeId transfer_target_ = kNoNode;  // leader only
  int transfer_elapsed_ = 0;          // ticks since the transfer began
  bool timeout_now_sent_ = false;     // for the current transfer
  // A restarted node cannot know whether a leader holds a lease on its earlier promise not to
  // vote; with lease reads on it keeps that promise for an election timeout after boot. A node
  // that never had a term made no promise.
  bool booting_ = false;
  int ticks_since_boot_ = 0;
  std::vector<ReadState> read_states_;
  std::vector<uint64_t> aborted_reads_;

  // ---- snapshots ----
  SnapshotMeta latest_snapshot_;                     // the newest image this node can send
  std::optional<SnapshotMeta> snapshot_to_install_;  // for the next Ready
  Index compact_to_ = 0;                             // for the next Ready

  // ---- Ready bookkeeping ----
  struct PendingWrite {
    uint64_t write_id;
    Index last_index;  // log position covered once this write is durable
    Term last_term;
    Term term;  // the current term, durable once this write is
    std::vector<Message> released_when_durable{};
  };
  std::vector<Message> outbox_;
  std::vector<Message> awaiting_next_write_;
  std::deque<PendingWrite> pending_writes_;
  uint64_t last_write_id_ = 0;
  HardState last_handed_hard_state_;
  // The highest current term known durable. Nothing is sent in a term that is not: a node that
  // forgot its term in a crash could otherwise lead the same term twice with different entries
  // (a lone voter wins without asking anyone).
  Term durable_term_ = 0;
  SoftState last_reported_soft_state_;

  // Invariant tracking: the previous step's values.
  Term checked_term_ = 0;
  Index checked_commit_ = 0;
};

}  // namespace dengine::raft
