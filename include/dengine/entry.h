#pragma once

// The replicated log's records and the persistent Raft state. These are frozen: the WAL and
// snapshot formats are built on them, so fields are only ever added, never changed.

#include <string>
#include <vector>

#include "dengine/types.h"

namespace dengine {

enum class EntryType : uint8_t {
  // An opaque command for the state machine (its encoding belongs to kv/).
  kNormal = 0,
  // Appended by each new leader at the start of its term (Raft thesis §6.4): committing it
  // commits every earlier entry and lets the leader serve reads. Carries no data.
  kNoOp = 1,
  // A membership change, encoded by the Raft core: a single change in one step (thesis §4.1),
  // or the entry entering or leaving a joint configuration (thesis §4.3). It takes effect on a
  // node when the entry is handed to its apply worker.
  kConfChange = 2,
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data{};

  friend bool operator==(const Entry&, const Entry&) = default;
};

// The state Raft requires on stable storage before answering any message (Raft Figure 2).
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;  // candidate voted for in `term`
  Index commit = 0;       // not needed for safety; saves re-learning it after a restart

  friend bool operator==(const HardState&, const HardState&) = default;
};

// Cluster membership. While `voters_outgoing` is non-empty the configuration is joint (thesis
// §4.3): every decision needs a majority of `voters` and a majority of `voters_outgoing`.
// Learners receive the log but never vote and never count toward a quorum.
struct ConfState {
  std::vector<NodeId> voters{};
  std::vector<NodeId> voters_outgoing{};
  std::vector<NodeId> learners{};

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// Identifies a state machine image: everything up to and including `index` applied. The image's
// bytes travel beside it (the transport and the state machine own them); the core only needs
// where the image sits in the log and which configuration it carries.
struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf{};

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

enum class ConfChangeOp : uint8_t {
  kAddVoter = 0,    // a new voter, or a learner promoted
  kAddLearner = 1,  // a new non-voting member (a voter must be removed first)
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeOp op = ConfChangeOp::kAddVoter;
  NodeId node = kNoNode;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

}  // namespace dengine
