#pragma once

// The metadata of the state machine image the log was last compacted behind. The log store
// keeps only that image's index and term; a restarting node also needs its configuration to
// boot (RaftBootState::snapshot), so the WAL worker records it durably before compacting.
//
// File format v1 ("DCMP"): magic:4 version:u8 index:u64 term:u64 then three id lists
// (voters, voters_outgoing, learners), each n:u32 (id:u64)*n, then CRC32C:u32 of everything
// before it. Little-endian.

#include <string>

#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::runtime {

class CompactionRecord {
 public:
  CompactionRecord(std::string dir, std::string name)
      : dir_(std::move(dir)), name_(std::move(name)) {}

  // Durably replaces the record (write, fsync, rename, fsync the directory).
  Status save(const SnapshotMeta& meta) const;
  // The saved record; index 0 when there is none. A damaged file is kCorruption naming it.
  [[nodiscard]] Result<SnapshotMeta> load() const;

 private:
  std::string dir_;
  std::string name_;
};

std::string encode_compaction_record(const SnapshotMeta& meta);
Result<SnapshotMeta> decode_compaction_record(std::string_view bytes, const std::string& path);

}  // namespace dengine::runtime
