#pragma once

// When to take a snapshot, and how far the log may then be compacted (docs/architecture.md §3, §9).
//
// A snapshot is due once enough entries or bytes were applied since the last one (etcd's
// --snapshot-count counts entries only; a byte bound keeps a log of large values small too).
// The log is then dropped up to the lowest of:
//  * the snapshot's index (a follower that needs an older entry gets the snapshot instead);
//  * what the state machine made durable itself (never merely what it applied: after a crash
//    the log must still hold every entry the durable state lacks);
// minus a retained tail, so that a follower a little behind catches up from the log rather
// than by a whole snapshot (etcd's SnapshotCatchUpEntries).

#include <cstdint>

#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine::log {

struct CompactionPolicy {
  uint64_t snapshot_every_entries = 100'000;  // etcd's default --snapshot-count
  uint64_t snapshot_every_bytes = 256ULL << 20;
  uint64_t retained_entries = 5'000;  // etcd's SnapshotCatchUpEntries

  // Each bound positive.
  [[nodiscard]] Status validate() const;
};

class CompactionPlanner {
 public:
  explicit CompactionPlanner(CompactionPolicy policy, Index last_snapshot_index = 0)
      : policy_(policy), snapshot_index_(last_snapshot_index) {}

  // An entry was applied; `entry_bytes` is its payload size.
  void on_applied(Index index, uint64_t entry_bytes);
  [[nodiscard]] bool snapshot_due() const;
  // A snapshot of the state at `index` was taken (or installed from the leader).
  void on_snapshot(Index index);

  // The highest index the log may drop entries up to (0: nothing), given what the state
  // machine has made durable.
  [[nodiscard]] Index compact_to(Index durable_applied_index) const;

  [[nodiscard]] Index snapshot_index() const { return snapshot_index_; }
  [[nodiscard]] uint64_t entries_since_snapshot() const { return entries_since_; }
  [[nodiscard]] uint64_t bytes_since_snapshot() const { return bytes_since_; }

 private:
  CompactionPolicy policy_;
  Index snapshot_index_ = 0;
  Index applied_index_ = 0;
  uint64_t entries_since_ = 0;
  uint64_t bytes_since_ = 0;
};

}  // namespace dengine::log
