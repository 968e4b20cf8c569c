#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine::raft {

struct RaftConfig {
  NodeId id = kNoNode;
  // The voting members when the node boots with an empty log: the initial cluster, or, for a
  // node joining a running cluster, the cluster's current voters (without itself: it never
  // campaigns, and replays its own addition from the leader's log).
  std::vector<NodeId> voters;

  // Raft §5.2: a follower that hears nothing for a randomized timeout in
  // [election_timeout_ticks, 2 * election_timeout_ticks) starts an election.
  int election_timeout_ticks = 10;
  int heartbeat_interval_ticks = 1;

  // Thesis §9.6: a node first asks whether it could win, so a partitioned node rejoining
  // with a high term does not depose a healthy leader.
  bool pre_vote = true;
  // Thesis §6.2: a leader that has not heard from a quorum for an election timeout steps
  // down, and followers refuse votes while they hear from a leader.
  bool check_quorum = true;

  // Flow control for one follower in the replicate state: messages in flight and their bytes.
  size_t max_inflight_messages = 256;
  uint64_t max_inflight_bytes = 32ULL << 20;
  // Upper bound of one kAppend's entry bytes (at least one entry is always sent).
  uint64_t max_append_bytes = 1ULL << 20;
  // Proposals are refused once the leader's uncommitted entries hold this many bytes.
  uint64_t max_uncommitted_bytes = 64ULL << 20;
  // Upper bound of one Ready's committed_entries bytes (at least one entry when any is ready).
  uint64_t max_apply_bytes = 16ULL << 20;
  // A single proposal larger than this is refused.
  uint64_t max_entry_bytes = 8ULL << 20;

  // Lease reads (thesis §6.4.1): how long after sending a heartbeat round that a quorum
  // acknowledged the leader may serve reads without another round, in nanoseconds of the
  // monotonic clock passed to observe_clock()/lease_read(). Must stay below the minimum
  // election timeout in real time minus the clock drift allowed between nodes; the runtime
  // computes it. 0 disables lease reads.
  uint64_t lease_duration_nanos = 0;
  // Reads waiting for confirmation, and heartbeat rounds outstanding, at most.
  size_t max_pending_reads = 4096;
  size_t max_heartbeat_rounds = 64;

  // Entries kept behind a new snapshot, so slightly lagging followers catch up from the log
  // rather than from a whole image.
  uint64_t compaction_trailing_entries = 64;

  // Seeds the election-timeout randomisation; the core has no other source of randomness.
  uint64_t random_seed = 0;

  [[nodiscard]] Status validate() const;
};

// What a node recovers from its own storage at start.
struct RaftBootState {
  HardState hard_state;
  // The newest durable state machine image the log was compacted behind (index 0: none).
  SnapshotMeta snapshot;
  std::vector<Entry> entries;  // durable, contiguous, starting just after the snapshot
  Index applied = 0;           // highest index the state machine durably holds
};

}  // namespace dengine::raft
