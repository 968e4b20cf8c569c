#pragma once

// The engine's data directory (docs/architecture.md §8): <data_dir>/wal/ (the WAL), <data_dir>/kv/
// (the state machine), <data_dir>/compaction (the image the log was compacted behind) and
// <data_dir>/member (this file: format version and the member id). An existing directory
// decides the member id: starting it as another node is refused, not silently accepted.

#include <string>

#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine::runtime {

inline constexpr int kDataDirFormatVersion = 1;

struct DataDir {
  std::string path;
  NodeId member_id = kNoNode;
  bool created = false;  // it was empty: the node boots with the initial members

  [[nodiscard]] std::string wal_dir() const { return path; }  // open_wal_log_store adds /wal
  [[nodiscard]] std::string kv_dir() const { return path + "/kv"; }
  // Images on their way to or from peers. A restart installs the received image a crash left
  // uninstalled, if any, then empties it.
  [[nodiscard]] std::string snapshots_dir() const { return path + "/snapshots"; }
};

// Creates `path` (and its metadata) if needed, or checks the existing one belongs to
// `member_id`.
Result<DataDir> open_data_dir(const std::string& path, NodeId member_id);

}  // namespace dengine::runtime
