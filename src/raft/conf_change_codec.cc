#include "raft/conf_change_codec.h"

#include <cstring>

namespace dengine::raft {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 1 + 1 + 4;
constexpr size_t kChangeBytes = 1 + 8;
// A change set larger than this is certainly not one an operator meant.
constexpr uint32_t kMaxChanges = 1024;

void put_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t get_u64(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  }
  return value;
}

}  // namespace

std::string encode_conf_change(const ConfChangeEntry& entry) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(entry.kind));
  const auto count = static_cast<uint32_t>(entry.changes.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((count >> (8 * i)) & 0xFF));
  for (const ConfChange& change : entry.changes) {
    out.push_back(static_cast<char>(change.op));
    put_u64(out, change.node);
  }
  return out;
}

Result<ConfChangeEntry> decode_conf_change(const std::string& data) {
  if (data.size() < kHeaderBytes) {
    return Status::corruption("raft: configuration change entry of " + std::to_string(data.size()) +
                              " bytes is truncated");
  }
  if (static_cast<uint8_t>(data[0]) != kFormatVersion) {
    return Status::corruption("raft: configuration change entry has unknown format version " +
                              std::to_string(static_cast<uint8_t>(data[0])));
  }
  ConfChangeEntry entry;
  const auto kind = static_cast<uint8_t>(data[1]);
  if (kind > static_cast<uint8_t>(ConfChangeEntry::Kind::kSimple)) {
    return Status::corruption("raft: configuration change entry has unknown kind " +
                              std::to_string(kind));
  }
  entry.kind = static_cast<ConfChangeEntry::Kind>(kind);
  uint32_t count = 0;
  for (int i = 0; i < 4; ++i) {
    count |= static_cast<uint32_t>(static_cast<uint8_t>(data[2 + i])) << (8 * i);
  }
  if (count > kMaxChanges || data.size() != kHeaderBytes + count * kChangeBytes) {
    return Status::corruption("raft: configuration change entry claims " + std::to_string(count) +
                              " changes in " + std::to_string(data.size()) + " bytes");
  }
  for (uint32_t i = 0; i < count; ++i) {
    const char* bytes = data.data() + kHeaderBytes + i * kChangeBytes;
    const auto op = static_cast<uint8_t>(bytes[0]);
    if (op > static_cast<uint8_t>(ConfChangeOp::kRemoveNode)) {
      return Status::corruption("raft: configuration change has unknown operation " +
                                std::to_string(op));
    }
    entry.changes.push_back(
        ConfChange{.op = static_cast<ConfChangeOp>(op), .node = get_u64(bytes + 1)});
  }
  return entry;
}

}  // namespace dengine::raft
