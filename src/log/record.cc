#include "log/record.h"

#include <cstdio>

#include "common/check.h"
#include "log/crc32c.h"

namespace dengine::log {

void put_u32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

uint64_t get_u64(const char* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%x", value);
  return text;
}

namespace {

uint32_t salt_seed(uint32_t salt) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((salt >> (8 * i)) & 0xff);
  return crc32c(bytes, sizeof(bytes));
}

// Checksum of a record whose header starts at `record`: salt, then everything after the crc
// field up to the end of the payload.
uint32_t record_crc(uint32_t salt, const char* record, size_t payload_bytes) {
  return crc32c_extend(salt_seed(salt), record + 4, kRecordHeaderBytes - 4 + payload_bytes);
}

// Reserves the header, lets `payload` append the payload, then fills in the header and pads.
template <typename WritePayload>
void append_record(std::string& out, uint32_t salt, uint32_t synced_offset, RecordType type,
                   WritePayload&& payload) {
  const size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  payload(out);
  const size_t payload_bytes = out.size() - start - kRecordHeaderBytes;
  DENGINE_CHECK(payload_bytes <= UINT32_MAX);
  std::string header;
  put_u32(header, 0);
  put_u32(header, static_cast<uint32_t>(payload_bytes));
  header.push_back(static_cast<char>(type));
  header.append(3, '\0');
  put_u32(header, synced_offset);
  out.replace(start, kRecordHeaderBytes, header);
  const uint32_t crc = record_crc(salt, out.data() + start, payload_bytes);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  out.append(framed_record_bytes(payload_bytes) - kRecordHeaderBytes - payload_bytes, '\0');
}

bool known_type(uint8_t type) {
  return type >= static_cast<uint8_t>(RecordType::kEntry) &&
         type <= static_cast<uint8_t>(RecordType::kSeal);
}

}  // namespace

void append_entry_record(std::string& out, uint32_t salt, uint32_t synced_offset,
                         const Entry& entry) {
  append_record(out, salt, synced_offset, RecordType::kEntry, [&](std::string& o) {
    put_u64(o, entry.term);
    put_u64(o, entry.index);
    o.push_back(static_cast<char>(entry.type));
    o.append(entry.data);
  });
}

void append_hard_state_record(std::string& out, uint32_t salt, uint32_t synced_offset,
                              const HardState& hard_state) {
  append_record(out, salt, synced_offset, RecordType::kHardState, [&](std::string& o) {
    put_u64(o, hard_state.term);
    put_u64(o, hard_state.vote);
    put_u64(o, hard_state.commit);
  });
}

void append_index_record(std::string& out, uint32_t salt, uint32_t synced_offset, RecordType type,
                         Index index) {
  DENGINE_CHECK(type == RecordType::kTruncate || type == RecordType::kSeal);
  append_record(out, salt, synced_offset, type, [&](std::string& o) { put_u64(o, index); });
}

ParsedRecord parse_record(std::string_view bytes, size_t offset, uint32_t salt, uint64_t base) {
  ParsedRecord parsed;
  if (offset > bytes.size() || bytes.size() - offset < kRecordHeaderBytes) return parsed;
  const char* header = bytes.data() + offset;
  bool all_zero = true;
  for (size_t i = 0; i < kRecordHeaderBytes; ++i) all_zero = all_zero && header[i] == 0;
  if (all_zero) return parsed;

  parsed.kind = ParsedRecord::Kind::kInvalid;
  const uint32_t stored_crc = get_u32(header);
  const uint32_t length = get_u32(header + 4);
  const auto type = static_cast<uint8_t>(header[8]);
  const uint32_t synced_offset = get_u32(header + 12);
  const size_t room = bytes.size() - offset - kRecordHeaderBytes;
  // Check what is cheap first: recovery probes many offsets of garbage for valid records.
  if (length > room) {
    parsed.problem = "record length " + std::to_string(length) + " runs past the end of the " +
                     "segment (" + std::to_string(room) + " bytes left)";
  } else if (!known_type(type) || header[9] != 0 || header[10] != 0 || header[11] != 0) {
    parsed.problem = "bad record header (type " + std::to_string(type) + ")";
  } else if (synced_offset > base + offset) {
    parsed.problem = "bad record header (synced offset " + std::to_string(synced_offset) +
                     " is past the record)";
  }
  if (!parsed.problem.empty()) return parsed;
  const uint32_t computed = record_crc(salt, header, length);
  if (computed != stored_crc) {
    parsed.problem =
        "checksum mismatch (expected " + hex32(computed) + ", found " + hex32(stored_crc) + ")";
    parsed.checksum_mismatch = true;
    parsed.expected_crc = computed;
    parsed.found_crc = stored_crc;
    return parsed;
  }
  parsed.kind = ParsedRecord::Kind::kRecord;
  parsed.record.type = static_cast<RecordType>(type);
  parsed.record.synced_offset = synced_offset;
  parsed.record.payload = bytes.substr(offset + kRecordHeaderBytes, length);
  parsed.record.framed_bytes = framed_record_bytes(length);
  return parsed;
}

std::optional<Entry> decode_entry(std::string_view payload) {
  if (payload.size() < kEntryPayloadHeaderBytes) return std::nullopt;
  Entry entry;
  entry.term = get_u64(payload.data());
  entry.index = get_u64(payload.data() + 8);
  entry.type = static_cast<EntryType>(static_cast<uint8_t>(payload[16]));
  entry.data.assign(payload.substr(kEntryPayloadHeaderBytes));
  return entry;
}

std::optional<HardState> decode_hard_state(std::string_view payload) {
  if (payload.size() != kHardStatePayloadBytes) return std::nullopt;
  HardState hard_state;
  hard_state.term = get_u64(payload.data());
  hard_state.vote = get_u64(payload.data() + 8);
  hard_state.commit = get_u64(payload.data() + 16);
  return hard_state;
}

std::optional<Index> decode_index(std::string_view payload) {
  if (payload.size() != kIndexPayloadBytes) return std::nullopt;
  return get_u64(payload.data());
}

}  // namespace dengine::log
