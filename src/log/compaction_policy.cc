#include "log/compaction_policy.h"

#include <algorithm>

namespace dengine::log {

Status CompactionPolicy::validate() const {
  if (snapshot_every_entries == 0) {
    return Status::invalid_argument("compaction: snapshot_every_entries must be positive");
  }
  if (snapshot_every_bytes == 0) {
    return Status::invalid_argument("compaction: snapshot_every_bytes must be positive");
  }
  return Status::ok();
}

void CompactionPlanner::on_applied(Index index, uint64_t entry_bytes) {
  if (index <= applied_index_) return;  // a replay after restart counts once
  applied_index_ = index;
  if (index <= snapshot_index_) return;
  ++entries_since_;
  bytes_since_ += entry_bytes;
}

bool CompactionPlanner::snapshot_due() const {
  return entries_since_ >= policy_.snapshot_every_entries ||
         bytes_since_ >= policy_.snapshot_every_bytes;
}

void CompactionPlanner::on_snapshot(Index index) {
  if (index <= snapshot_index_) return;
  snapshot_index_ = index;
  applied_index_ = std::max(applied_index_, index);
  entries_since_ = 0;
  bytes_since_ = 0;
}

Index CompactionPlanner::compact_to(Index durable_applied_index) const {
  const Index bound = std::min(snapshot_index_, durable_applied_index);
  return bound > policy_.retained_entries ? bound - policy_.retained_entries : 0;
}

}  // namespace dengine::log
