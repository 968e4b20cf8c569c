#pragma once

// How an EmbeddedEngine is set up. Every field has a default that suits a single node; only
// data_dir must be given.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "dengine/clock.h"
#include "dengine/in_process_network.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine {

enum class StorageKind : uint8_t {
  // The segmented WAL in <data_dir>/wal/ and the RocksDB state machine in <data_dir>/kv/.
  kDurable = 0,
  // The WAL, with the state machine in memory: a restart replays the whole log, which is
  // therefore never compacted. For tests, and builds without RocksDB.
  kWalWithMemoryState = 1,
};

struct EngineOptions {
  // Created if missing. An existing data dir decides the node's id (as etcd's does).
  std::string data_dir;
  NodeId node_id = 1;
  // The voters when the cluster is first started; empty means this node alone. A node that
  // joins a running cluster lists the cluster's voters without itself: it never campaigns,
  // and learns its own addition (add_learner on any member) from the leader's log.
  std::vector<NodeId> initial_members;
  // The other members' engines in this process (dengine/in_process_network.h); needed as
  // soon as there are other members.
  std::shared_ptr<InProcessNetwork> network;

  // etcd's defaults: heartbeat 100 ms, election timeout 1000 ms (at least 5 heartbeats).
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds election_timeout{1000};

  // Requests in flight at most; past it calls fail at once with kResourceExhausted.
  size_t max_in_flight_requests = 65'536;
  // Applied entries between two durable images of the state machine, after which the log is
  // compacted behind the image (etcd's --snapshot-count).
  uint64_t snapshot_every_entries = 100'000;
  // Entries kept behind an image, so that a follower slightly behind catches up from the log.
  uint64_t retained_log_entries = 5'000;
  // Learners at most at once; 0: no limit. The leader refuses an add_learner past it with
  // kFailedPrecondition, whichever member was asked (dengine-server sets 1, etcd's limit).
  size_t max_learners = 0;

#if DENGINE_WITH_ROCKSDB
  StorageKind storage = StorageKind::kDurable;
#else
  StorageKind storage = StorageKind::kWalWithMemoryState;
#endif
  // Where time comes from; null means the real monotonic clock. Tests pass a ManualClock.
  std::shared_ptr<Clock> clock;

  // OK, or the first problem, naming the field.
  [[nodiscard]] Status validate() const;
};

}  // namespace dengine
