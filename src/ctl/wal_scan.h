#pragma once

// A read-only look at a segmented WAL (log/segment.h, log/record.h) for `dengine-ctl wal
// inspect`: each segment file scanned on its own, record by record, up to its end or to the
// first record that does not check out; then the log as recovery sees it (log/recovery.h), whose
// verdict is the one the engine would reach at its next start. Nothing is truncated or repaired.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "log/recovery.h"
#include "log/segment.h"

namespace dengine::ctl {

struct SegmentScan {
  std::string file_name;
  uint64_t file_bytes = 0;
  std::optional<log::SegmentHeader> header;  // absent when the header does not check out
  uint64_t records = 0;
  uint64_t entries = 0;
  uint64_t hard_states = 0;
  uint64_t truncations = 0;
  bool sealed = false;
  Index first_index = 0;  // of the entry records read; 0 when none
  Index last_index = 0;
  Term first_term = 0;
  Term last_term = 0;
  std::optional<HardState> last_hard_state;
  uint64_t end_offset = 0;  // where the records read end
  // Why the scan stopped before the preallocated zeros: a record that does not check out, or
  // nonzero bytes after the last record ("offset N: problem"); empty when it did not.
  std::string damage;
};

struct WalScan {
  std::string wal_dir;
  std::vector<SegmentScan> segments;    // by file name
  std::vector<std::string> temp_files;  // interrupted segment creations
  // What recovery would do: the log it recovers, or why it refuses to.
  Result<log::WalReplay> replay = Status::internal("not replayed");
};

// `dir`: a data dir (its wal/ is used) or a WAL directory. kNotFound when it holds no segments.
Result<WalScan> scan_wal(const std::string& dir);

}  // namespace dengine::ctl
