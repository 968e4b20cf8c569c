#pragma once

// The byte layout of member records, shared by the replicated commands, the RocksDB store's
// "member/" keys in its meta family and the in-memory store's image (all on disk: only ever
// add):
//
//   urls    := n:u32 (url)*n                 each url a u32 length then its bytes
//   record  := id:u64 name peer_urls:urls client_urls:urls
//
// Bounds keep a forged length or count from allocating more than the input could hold.

#include <cstddef>
#include <string>
#include <vector>

#include "common/byte_codec.h"
#include "dengine/member_record.h"
#include "dengine/status.h"

namespace dengine::kv {

inline constexpr size_t kMaxMemberUrls = 64;
inline constexpr size_t kMaxMemberUrlBytes = 4096;
inline constexpr size_t kMaxMemberNameBytes = 4096;

// kInvalidArgument naming the field when a bound is exceeded.
Status check_member_fields(const std::string& name, const std::vector<std::string>& peer_urls,
                           const std::vector<std::string>& client_urls);

void write_urls(ByteWriter& out, const std::vector<std::string>& urls);
std::vector<std::string> read_urls(ByteReader& in, std::string_view field);

void write_member_record(ByteWriter& out, const MemberRecord& record);
MemberRecord read_member_record(ByteReader& in);

}  // namespace dengine::kv
