#include "dengine/engine_options.h"

#include "runtime/engine_internals.h"

namespace dengine {

Status EngineOptions::validate() const {
  return runtime::validate_options(*this, /*peers_wired=*/false);
}

Status runtime::validate_options(const EngineOptions& options, bool peers_wired) {
  const auto& [data_dir, node_id, initial_members, network, heartbeat_interval, election_timeout,
               max_in_flight_requests, snapshot_every_entries, retained_log_entries, max_learners,
               storage, clock] = options;
  (void)max_learners;  // any value is valid
  if (data_dir.empty()) return Status::invalid_argument("engine: data_dir is empty");
  if (node_id == kNoNode) return Status::invalid_argument("engine: node_id must not be 0");
  for (NodeId member : initial_members) {
    if (member == kNoNode) return Status::invalid_argument("engine: initial_members holds 0");
  }
  const bool alone = initial_members.empty() ||
                     (initial_members.size() == 1 && initial_members.front() == node_id);
  if (!alone && !network && !peers_wired) {
    return Status::invalid_argument(
        "engine: initial_members names other members but no network is given (set "
        "EngineOptions::network to an InProcessNetwork shared by the engines)");
  }
  if (heartbeat_interval.count() <= 0) {
    return Status::invalid_argument("engine: heartbeat_interval must be positive");
  }
  // etcd's rule: an election timeout under five heartbeats elects leaders on a lost packet.
  if (election_timeout < 5 * heartbeat_interval) {
    return Status::invalid_argument("engine: election_timeout (" +
                                    std::to_string(election_timeout.count()) +
                                    " ms) must be at least 5 times heartbeat_interval (" +
                                    std::to_string(heartbeat_interval.count()) + " ms)");
  }
  if (max_in_flight_requests == 0) {
    return Status::invalid_argument("engine: max_in_flight_requests must be positive");
  }
  if (snapshot_every_entries == 0) {
    return Status::invalid_argument("engine: snapshot_every_entries must be positive");
  }
#if !DENGINE_WITH_ROCKSDB
  if (storage == StorageKind::kDurable) {
    return Status::invalid_argument("engine: storage kDurable needs a build with RocksDB");
  }
#endif
  return Status::ok();
}

}  // namespace dengine
