#pragma once

// Recovery of the segmented WAL: reads every segment, replays the records and decides where
// the log ends. Reads only; SegmentedWal::open() carries out the repairs it asks for.
//
// Rules (see record.h and segment.h for the format):
//  * Segments replay in seq (creation) order. A segment is skipped when a newer one has a name
//    at or below its own (that newer segment truncated the log before everything the older one
//    holds), or when a newer one resets the log (a snapshot was installed); a crash came before
//    the older one was deleted.
//  * Each segment continues the log: its name n must be at most last index + 1 (else a segment
//    is missing) and its header's prev_term must match the log's term at n - 1; entries at or
//    after n are discarded (a truncation that reached back before the segment being written).
//  * Every segment but the last ends with a seal record; a bad record or a missing seal there
//    is corruption, because each was synced before the next one was created.
//  * In the last segment the first bad record, or nonzero bytes after the end of the records,
//    starts the torn tail, unless some valid record after it carries a synced_offset past it:
//    then the bad bytes had been durable, and that is corruption.
//  * Entry indexes must follow each other; the hard state's commit must not pass the last index.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "log/file_system.h"
#include "log/segment.h"

namespace dengine::log {

struct ReplayedSegment {
  std::string file_name;
  SegmentHeader header;
  uint64_t file_bytes = 0;
  uint64_t end_offset = 0;  // end of the valid records (past the seal when sealed)
  bool sealed = false;
  bool skipped = false;            // superseded by a newer segment; to be deleted
  uint64_t surviving_entries = 0;  // entries of this segment still in the log
};

struct ReplayedEntry {
  Entry entry;
  size_t segment = 0;   // position in WalReplay::segments
  uint32_t offset = 0;  // of the record in the segment
};

struct TornTail {
  uint64_t offset = 0;         // where the valid records end
  uint64_t damaged_bytes = 0;  // from offset to the last nonzero byte
  std::string problem;
};

struct WalReplay {
  std::vector<ReplayedSegment> segments;  // seq order
  Index first_index = 1;
  Term prev_term = 0;
  std::vector<ReplayedEntry> entries;  // entries[i].entry.index == first_index + i
  HardState hard_state;
  std::optional<TornTail> torn_tail;    // in segments.back()
  std::vector<std::string> temp_files;  // interrupted segment creations, to delete

  [[nodiscard]] Index last_index() const { return first_index + entries.size() - 1; }
};

// kCorruption (naming the file and offset) when the WAL is damaged before its tail.
Result<WalReplay> replay_wal(FileSystem& fs, const std::string& wal_dir);

}  // namespace dengine::log
