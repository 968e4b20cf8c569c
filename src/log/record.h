#pragma once

// Record framing inside a WAL segment. Every record starts on an 8-byte boundary:
//
//   offset  size  field
//   0       4     crc            CRC32C of (segment salt, bytes 4 .. end of payload)
//   4       4     length         payload bytes
//   8       1     type           RecordType
//   9       3     reserved       zero
//   12      4     synced_offset  the segment offset known durable when this record was written
//   16      length payload, then zero padding to the next multiple of 8 (not checksummed)
//
// All integers little-endian. Sixteen zero bytes are not a record: they mark the end of the
// data (segments are preallocated, so the space after the last record reads as zeros).
//
// synced_offset lets recovery tell a torn tail from damage before it: bytes before a record's
// synced_offset had been made durable before that record was written, so a damaged record
// followed anywhere by a valid record whose synced_offset lies past it was durable, and is
// corruption, not a write the power cut interrupted.
//
// The salt (derived from the segment's sequence number) makes a record copied from another
// segment, or left over from an older file, fail its checksum.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dengine/entry.h"
#include "dengine/types.h"

namespace dengine::log {

enum class RecordType : uint8_t {
  kEntry = 1,      // term u64, index u64, entry type u8, data
  kHardState = 2,  // term u64, vote u64, commit u64
  kTruncate = 3,   // index u64: entries at and after it are discarded
  kSeal = 4,       // last index u64: the segment is complete; nothing follows
};

inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr size_t kRecordAlignment = 8;
inline constexpr size_t kEntryPayloadHeaderBytes = 17;
inline constexpr size_t kHardStatePayloadBytes = 24;
inline constexpr size_t kIndexPayloadBytes = 8;

// Header + payload + padding.
constexpr size_t framed_record_bytes(size_t payload_bytes) {
  return (kRecordHeaderBytes + payload_bytes + kRecordAlignment - 1) / kRecordAlignment *
         kRecordAlignment;
}
constexpr size_t framed_entry_bytes(size_t data_bytes) {
  return framed_record_bytes(kEntryPayloadHeaderBytes + data_bytes);
}

// ---- writing: each appends one framed record to `out` ----
void append_entry_record(std::string& out, uint32_t salt, uint32_t synced_offset,
                         const Entry& entry);
void append_hard_state_record(std::string& out, uint32_t salt, uint32_t synced_offset,
                              const HardState& hard_state);
void append_index_record(std::string& out, uint32_t salt, uint32_t synced_offset, RecordType type,
                         Index index);

// ---- reading ----
struct RecordView {
  RecordType type = RecordType::kEntry;
  uint32_t synced_offset = 0;
  std::string_view payload;
  size_t framed_bytes = 0;
};

struct ParsedRecord {
  enum class Kind : uint8_t { kRecord, kEnd, kInvalid };
  Kind kind = Kind::kEnd;
  RecordView record{};
  // kInvalid: what is wrong, e.g. "checksum mismatch (expected 0x1c2f3a4b, found 0x0)".
  std::string problem{};
  bool checksum_mismatch = false;  // else the header itself makes no sense
  uint32_t expected_crc = 0;       // when checksum_mismatch: computed from the bytes
  uint32_t found_crc = 0;          // when checksum_mismatch: stored in the record
};

// Parses the record at `offset` of `bytes`, which hold a segment from offset `base` on (0: the
// whole segment). kEnd when fewer than a header's bytes remain or the header is all zeros.
ParsedRecord parse_record(std::string_view bytes, size_t offset, uint32_t salt, uint64_t base = 0);

std::optional<Entry> decode_entry(std::string_view payload);
std::optional<HardState> decode_hard_state(std::string_view payload);
std::optional<Index> decode_index(std::string_view payload);

// Little-endian fixed-width integers.
void put_u32(std::string& out, uint32_t value);
void put_u64(std::string& out, uint64_t value);
uint32_t get_u32(const char* p);
uint64_t get_u64(const char* p);

std::string hex32(uint32_t value);  // "0x1c2f3a4b"

}  // namespace dengine::log
