#pragma once

// WAL segment files: naming and the fixed header.
//
// `<data-dir>/wal/` holds segments named by the index of the first entry they hold, 16 hex
// digits and `.wal` (0000000000000001.wal). A segment is created as `<name>.tmp`,
// preallocated, given its header and the current hard state, synced, then renamed into place
// and the directory synced: a `.wal` file always has a durable header, and a leftover `.tmp`
// is an interrupted creation that recovery deletes.
//
// Header, 64 bytes, little-endian:
//   0  8  magic "DENGWAL\n"        24 8  first_index (equals the name)
//   8  4  format version (1)       32 8  prev_term: term of entry first_index - 1
//   12 4  header bytes (64)        40 4  salt for the record checksums
//   16 8  seq: creation order      44 4  flags (kSegmentResetsLog)
//                                  48 12 reserved, zero
//                                  60 4  CRC32C of bytes 0..59
//
// Recovery replays segments in seq order, not name order: after a truncation that reaches
// back before the segment being written, a new segment with a smaller name supersedes newer
// ones until they are deleted (see segmented_wal.h). A segment flagged kSegmentResetsLog
// (a snapshot was installed) supersedes every older one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dengine/status.h"
#include "dengine/types.h"
#include "log/record.h"

namespace dengine::log {

inline constexpr size_t kSegmentHeaderBytes = 64;
inline constexpr uint32_t kWalFormatVersion = 1;
// The header and the hard-state record every segment starts with; synced before the segment
// gets its name, so damage there is never a torn write.
inline constexpr size_t kSegmentInitialBytes =
    kSegmentHeaderBytes + framed_record_bytes(kHardStatePayloadBytes);
inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr std::string_view kTempSuffix = ".tmp";

// The log restarts at this segment's first index: every entry before it, in every older
// segment, was discarded (LogStore::reset).
inline constexpr uint32_t kSegmentResetsLog = 1;

struct SegmentHeader {
  uint64_t seq = 0;
  Index first_index = 1;
  Term prev_term = 0;
  uint32_t salt = 0;
  uint32_t flags = 0;
};

// "0000000000000042.wal" for first index 0x42.
std::string segment_file_name(Index first_index);
// The first index a segment file name stands for; nullopt for any other name.
std::optional<Index> parse_segment_file_name(std::string_view name);

uint32_t segment_salt(uint64_t seq);

std::string encode_segment_header(const SegmentHeader& header);
// kCorruption naming `file_name` when the bytes are not a valid header; kFailedPrecondition
// for a format version this build does not know.
Result<SegmentHeader> decode_segment_header(std::string_view bytes, std::string_view file_name);

}  // namespace dengine::log
