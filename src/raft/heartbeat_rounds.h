#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <vector>

#include "dengine/types.h"
#include "raft/joint_config.h"

namespace dengine::raft {

// A read waiting for a quorum to confirm that this node still leads (thesis §6.4).
struct PendingRead {
  uint64_t request_id = 0;
  NodeId from = kNoNode;  // kNoNode: asked locally; else the follower that forwarded it
  Index index = 0;        // the commit index when the read arrived
};

// Every heartbeat broadcast is a numbered round. A round that a quorum acknowledges proves this
// node still led when the round was sent, so it confirms every read queued before the round
// (ReadIndex, thesis §6.4) and lets a lease run from the round's send time (thesis §6.4.1:
// "the lease starts when the leader sends the heartbeats", not when the answers arrive).
class HeartbeatRounds {
 public:
  explicit HeartbeatRounds(size_t max_rounds) : max_rounds_(max_rounds) {}

  // Queues a read for the next round. Reads are never confirmed by a round sent before them.
  void add_read(PendingRead read) { queued_.push_back(read); }
  [[nodiscard]] bool has_queued_reads() const { return !queued_.empty(); }

  // A heartbeat round is being sent at `sent_at` (nanoseconds of the monotonic clock).
  // Returns its id, carried by the heartbeats and echoed by their answers. When too many rounds
  // are outstanding the oldest is dropped, and its reads land in `aborted`.
  uint64_t start_round(uint64_t sent_at, std::vector<PendingRead>* aborted);

  struct Confirmed {
    std::vector<PendingRead> reads;
    bool any = false;
    uint64_t sent_at = 0;  // of the newest confirmed round
  };
  // `voter` answered heartbeats up to round `round_id`; answering a round implies answering
  // every earlier one (the later heartbeat was sent after them).
  Confirmed acknowledge(NodeId voter, uint64_t round_id, NodeId self, const JointConfig& voters);

  // Leadership is lost: every read not yet confirmed.
  std::vector<PendingRead> take_all();

 private:
  struct Round {
    uint64_t id;
    uint64_t sent_at;
    std::vector<PendingRead> reads;
    std::set<NodeId> acks;
  };
  size_t max_rounds_;
  uint64_t last_round_id_ = 0;
  std::vector<PendingRead> queued_;
  std::deque<Round> rounds_;
};

}  // namespace dengine::raft
