// libFuzzer target: the WAL record parser and the payload decoders, on any bytes, the way
// recovery meets them in a damaged segment.
//
// Input: salt:u32, base:u16 (the segment offset of the bytes, in units of 8), then the bytes.
// Checks beyond "no crash, no out-of-bounds read": a record that parses lies inside the
// bytes, and re-encoding what its payload decodes to gives back its exact bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "log/record.h"

namespace {

using namespace dengine;       // NOLINT(google-build-using-namespace)
using namespace dengine::log;  // NOLINT(google-build-using-namespace)

// The record's header and payload as append_*_record writes them (padding is not checked).
void check_reencodes(std::string_view bytes, size_t offset, uint32_t salt,
                     const RecordView& record) {
  const size_t checked = kRecordHeaderBytes + record.payload.size();
  std::string again;
  switch (record.type) {
    case RecordType::kEntry: {
      const std::optional<Entry> entry = decode_entry(record.payload);
      if (!entry) return;
      append_entry_record(again, salt, record.synced_offset, *entry);
      break;
    }
    case RecordType::kHardState: {
      const std::optional<HardState> hard_state = decode_hard_state(record.payload);
      if (!hard_state) return;
      append_hard_state_record(again, salt, record.synced_offset, *hard_state);
      break;
    }
    case RecordType::kTruncate:
    case RecordType::kSeal: {
      const std::optional<Index> index = decode_index(record.payload);
      if (!index) return;
      append_index_record(again, salt, record.synced_offset, record.type, *index);
      break;
    }
  }
  DENGINE_CHECK(again.size() == record.framed_bytes);
  DENGINE_CHECK(again.substr(0, checked) == bytes.substr(offset, checked));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const uint32_t salt = get_u32(input.data());
  const uint64_t base = (uint64_t{data[4]} | uint64_t{data[5]} << 8) * kRecordAlignment;
  const std::string_view bytes = input.substr(6);

  // Walk the records as recovery does: past a good one by its framed size, past a bad one by
  // the alignment (recovery probes further offsets for valid records).
  size_t offset = 0;
  while (offset <= bytes.size()) {
    const ParsedRecord parsed = parse_record(bytes, offset, salt, base);
    if (parsed.kind == ParsedRecord::Kind::kEnd) break;
    if (parsed.kind == ParsedRecord::Kind::kInvalid) {
      DENGINE_CHECK(!parsed.problem.empty());
      offset += kRecordAlignment;
      continue;
    }
    const RecordView& record = parsed.record;
    DENGINE_CHECK(record.payload.data() == bytes.data() + offset + kRecordHeaderBytes);
    DENGINE_CHECK(offset + kRecordHeaderBytes + record.payload.size() <= bytes.size());
    DENGINE_CHECK(record.framed_bytes == framed_record_bytes(record.payload.size()));
    check_reencodes(bytes, offset, salt, record);
    offset += record.framed_bytes;
  }

  // Unaligned offsets, and the decoders on raw bytes.
  for (size_t i = 0; i < bytes.size() && i < 64; ++i) {
    (void)parse_record(bytes, i, salt + static_cast<uint32_t>(i), base);
  }
  (void)decode_entry(bytes);
  (void)decode_hard_state(bytes);
  (void)decode_index(bytes);
  return 0;
}
