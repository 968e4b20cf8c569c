#pragma once

// The Ready contract: everything the pure Raft core asks of the outside world after a batch of
// inputs. The runtime (or the simulator) takes one Ready at a time and must:
//
//  0. Snapshot: if `snapshot` is set, this node's log is replaced by a leader's image (Raft §7).
//     The append worker persists its metadata and discards every stored entry, as part of this
//     Ready's write; the apply worker installs the image (whose bytes came with the kSnapshot
//     message) before any later committed entry, and applies nothing at or below its index.
//  1. Storage (in order, on the append worker): persist `entries`, first discarding any stored
//     entry at or after entries.front().index (a follower overwriting a conflicting suffix),
//     then `hard_state` if set, and make both durable together (one fsync). The order matters
//     if a crash can keep one and not the other: hard_state.commit may cover the entries of
//     the same write, so the entries must never be lost while the hard state survives. When
//     the write is durable, report `RaftNode::on_persisted(write_id)`. Writes complete in
//     write_id order. A write with no entries whose hard state changes only the commit index
//     may be reported without an fsync of its own (etcd-raft's MustSync): a commit index lost
//     in a crash is learned again, and nothing withheld waits on it alone.
//  2. Network: send `messages` now. Messages that depend on durability (vote grants, append
//     acknowledgements) are withheld by the core and appear in a later Ready, after the
//     matching on_persisted input — so the runtime never has to order sends after fsyncs.
//  3. Apply (in order, on the apply worker): apply `committed_entries` to the state machine,
//     then report `RaftNode::on_applied(last index)`. They are always locally durable.
//  4. Reads: each of `read_states` may be answered once the state machine has applied its
//     index; each of `aborted_reads` must be retried (or failed) by its caller.
//  5. Compaction: once `compact_to` is non-zero the log store may discard entries up to it;
//     they are covered by a durable state machine image (never merely by applied state).
//
// The lists of steps 1 to 3 (`entries`, `messages`, `committed_entries`) are independent of
// one another: the leader's own append runs in parallel with replication to followers (Raft
// thesis §10.2.1); its own acknowledgement counts only once durable.

#include <cstdint>
#include <optional>
#include <vector>

#include "dengine/entry.h"
#include "dengine/types.h"
#include "raft/raft_message.h"

namespace dengine {

// A linearizable read may be served once the state machine has applied `index` (thesis §6.4).
struct ReadState {
  uint64_t request_id = 0;
  Index index = 0;

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

enum class RaftRole : uint8_t { kFollower = 0, kPreCandidate, kCandidate, kLeader };

// Volatile state worth reporting when it changes (for routing proposals and for metrics).
struct SoftState {
  NodeId leader = kNoNode;
  RaftRole role = RaftRole::kFollower;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

struct Ready {
  // Non-zero when hard_state or entries must be written; report it back once durable.
  uint64_t write_id = 0;
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;

  std::vector<Message> messages;

  std::vector<Entry> committed_entries;

  std::optional<SnapshotMeta> snapshot;
  Index compact_to = 0;

  std::optional<SoftState> soft_state;

  // Reads confirmed since the last Ready, and reads that can no longer be confirmed here (the
  // leader stepped down or the request reached a node that lost its leader): retry them.
  std::vector<ReadState> read_states;
  std::vector<uint64_t> aborted_reads;

  [[nodiscard]] bool has_storage_work() const { return write_id != 0; }
};

}  // namespace dengine
