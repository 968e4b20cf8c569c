#include "raft/raft_config.h"

#include <algorithm>
#include <string>

namespace dengine::raft {

Status RaftConfig::validate() const {
  if (id == kNoNode) return Status::invalid_argument("raft: node id 0 is reserved");
  // A node joining a running cluster boots with the cluster's voters, which do not include it
  // yet: it never campaigns, and replays its own addition from the leader's log.
  if (std::find(voters.begin(), voters.end(), kNoNode) != voters.end()) {
    return Status::invalid_argument("raft: voter id 0 is reserved");
  }
  if (heartbeat_interval_ticks <= 0) {
    return Status::invalid_argument("raft: heartbeat_interval_ticks must be positive");
  }
  // Thesis §3.4: broadcastTime << electionTimeout, or followers time out between heartbeats.
  if (election_timeout_ticks <= heartbeat_interval_ticks) {
    return Status::invalid_argument("raft: election_timeout_ticks (" +
                                    std::to_string(election_timeout_ticks) +
                                    ") must exceed heartbeat_interval_ticks (" +
                                    std::to_string(heartbeat_interval_ticks) + ")");
  }
  if (max_inflight_messages == 0) {
    return Status::invalid_argument("raft: max_inflight_messages must be positive");
  }
  if (max_append_bytes == 0 || max_inflight_bytes == 0 || max_apply_bytes == 0) {
    return Status::invalid_argument("raft: byte limits must be positive");
  }
  if (max_heartbeat_rounds == 0 || max_pending_reads == 0) {
    return Status::invalid_argument(
        "raft: max_heartbeat_rounds and max_pending_reads must be positive");
  }
  // Thesis §6.4.1: a lease rests on voters refusing to elect anyone while they hear from the
  // leader, which is check-quorum's rule; without it a lease read can be stale.
  if (lease_duration_nanos > 0 && !check_quorum) {
    return Status::invalid_argument(
        "raft: lease reads (lease_duration_nanos > 0) need check_quorum");
  }
  return Status::ok();
}

}  // namespace dengine::raft
