#include "log/segment.h"

#include <cstdio>

#include "common/splitmix64.h"
#include "log/crc32c.h"
#include "log/record.h"

namespace dengine::log {
namespace {

constexpr std::string_view kMagic("DENGWAL\n", 8);
constexpr size_t kNameDigits = 16;

}  // namespace

std::string segment_file_name(Index first_index) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(first_index));
  return std::string(name) + std::string(kSegmentSuffix);
}

std::optional<Index> parse_segment_file_name(std::string_view name) {
  if (name.size() != kNameDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kNameDigits) != kSegmentSuffix) return std::nullopt;
  Index index = 0;
  for (size_t i = 0; i < kNameDigits; ++i) {
    const char c = name[i];
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;  // upper case is not a name this code writes
    }
    index = (index << 4) | digit;
  }
  return index;
}

uint32_t segment_salt(uint64_t seq) {
  return static_cast<uint32_t>(splitmix64_of(seq));
}

std::string encode_segment_header(const SegmentHeader& header) {
  std::string out(kMagic);
  put_u32(out, kWalFormatVersion);
  put_u32(out, static_cast<uint32_t>(kSegmentHeaderBytes));
  put_u64(out, header.seq);
  put_u64(out, header.first_index);
  put_u64(out, header.prev_term);
  put_u32(out, header.salt);
  put_u32(out, header.flags);
  out.append(12, '\0');
  put_u32(out, crc32c(out));
  return out;
}

Result<SegmentHeader> decode_segment_header(std::string_view bytes, std::string_view file_name) {
  const std::string where = "segment header of " + std::string(file_name) + " at offset 0";
  if (bytes.size() < kSegmentHeaderBytes) {
    return Status::corruption("wal: corrupt " + where + ": the file has only " +
                              std::to_string(bytes.size()) + " bytes");
  }
  const uint32_t stored = get_u32(bytes.data() + 60);
  const uint32_t computed = crc32c(bytes.data(), 60);
  if (stored != computed) {
    return Status::corruption("wal: checksum mismatch in " + where + " (expected " +
                              hex32(computed) + ", found " + hex32(stored) + "): corrupt");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return Status::corruption("wal: corrupt " + where + ": not a dengine WAL segment");
  }
  const uint32_t version = get_u32(bytes.data() + 8);
  if (version != kWalFormatVersion) {
    return Status::failed_precondition("wal: " + std::string(file_name) + " has format version " +
                                       std::to_string(version) + "; this build reads version " +
                                       std::to_string(kWalFormatVersion));
  }
  if (get_u32(bytes.data() + 12) != kSegmentHeaderBytes) {
    return Status::corruption("wal: corrupt " + where + ": unexpected header size");
  }
  SegmentHeader header;
  header.seq = get_u64(bytes.data() + 16);
  header.first_index = get_u64(bytes.data() + 24);
  header.prev_term = get_u64(bytes.data() + 32);
  header.salt = get_u32(bytes.data() + 40);
  header.flags = get_u32(bytes.data() + 44);
  if ((header.flags & ~kSegmentResetsLog) != 0) {
    return Status::failed_precondition("wal: " + std::string(file_name) + " has unknown flags " +
                                       hex32(header.flags) + "; written by a newer build?");
  }
  return header;
}

}  // namespace dengine::log
