#include "kv/snapshot_codec.h"

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "common/byte_codec.h"
#include "kv/member_codec.h"

namespace dengine::kv {
namespace {

using kv_limits::kMaxKeyBytes;
using kv_limits::kMaxValueBytes;

constexpr size_t kChecksumBytes = 8;
constexpr size_t kMaxCount = std::numeric_limits<uint32_t>::max();
// Smallest encodings, so forged counts are refused before allocating.
constexpr size_t kLeaseBytes = 24;
constexpr size_t kMinMemberBytes = 8 + 4 + 4 + 4;
constexpr size_t kAlarmBytes = 9;
constexpr size_t kMinKeyIndexBytes = 4 + 16 + 4;
constexpr size_t kMinGenerationBytes = 8 + 16 + 4;
constexpr size_t kRevisionBytes = 16;
constexpr size_t kMinRecordBytes = 16 + 1 + 4;

uint64_t fnv1a(std::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void write_revision(ByteWriter& out, Revision revision) {
  out.i64(revision.main);
  out.i64(revision.sub);
}

Revision read_revision(ByteReader& in, std::string_view field) {
  Revision revision;
  revision.main = in.i64(field);
  revision.sub = in.i64(field);
  return revision;
}

}  // namespace

std::string encode_snapshot(const KvState& state) {
  ByteWriter out;
  out.u8(kSnapshotFormatVersion);
  out.u64(state.applied_index);
  out.i64(state.mvcc.revision());
  out.i64(state.mvcc.compact_revision());

  out.count(state.leases.all().size());
  for (const auto& [id, lease] : state.leases.all()) {
    out.i64(id);
    out.i64(lease.ttl_seconds);
    out.i64(lease.remaining_ttl_seconds);
  }
  out.count(state.mvcc.index().size());
  for (const auto& [key, key_index] : state.mvcc.index()) {
    out.bytes(key);
    write_revision(out, key_index.modified());
    out.count(key_index.generations().size());
    for (const Generation& generation : key_index.generations()) {
      out.i64(generation.version);
      write_revision(out, generation.created);
      out.count(generation.revisions.size());
      for (const Revision& revision : generation.revisions) write_revision(out, revision);
    }
  }
  size_t record_count = 0;
  state.mvcc.records().scan(Revision{}, [&](Revision, const MvccRecord&) {
    ++record_count;
    return true;
  });
  out.count(record_count);
  state.mvcc.records().scan(Revision{}, [&](Revision revision, const MvccRecord& record) {
    write_revision(out, revision);
    out.u8(record.tombstone ? 1 : 0);
    out.bytes(record.kv.key);
    if (record.tombstone) return true;
    out.i64(record.kv.create_revision);
    out.i64(record.kv.mod_revision);
    out.i64(record.kv.version);
    out.i64(record.kv.lease);
    out.bytes(record.kv.value);
    return true;
  });
  out.count(state.members.size());
  for (const auto& [id, member] : state.members) write_member_record(out, member);
  out.count(state.alarms.size());
  for (const Alarm& alarm : state.alarms) {
    out.u64(alarm.member);
    out.u8(static_cast<uint8_t>(alarm.type));
  }
  std::string encoded = out.take();
  const uint64_t checksum = fnv1a(encoded);
  ByteWriter trailer;
  trailer.u64(checksum);
  encoded += trailer.take();
  return encoded;
}

Result<KvState> decode_snapshot(std::string_view encoded) {
  if (encoded.size() < 1 + kChecksumBytes) {
    return Status::corruption("kv snapshot: " + std::to_string(encoded.size()) +
                              " bytes is too short to be a snapshot");
  }
  const std::string_view body = encoded.substr(0, encoded.size() - kChecksumBytes);
  ByteReader trailer(encoded.substr(body.size()), "kv snapshot");
  const uint64_t expected = trailer.u64("checksum");
  const uint64_t actual = fnv1a(body);
  if (expected != actual) {
    return Status::corruption("kv snapshot: checksum mismatch (stored " + std::to_string(expected) +
                              ", computed " + std::to_string(actual) + ")");
  }

  ByteReader in(body, "kv snapshot");
  const uint8_t format = in.u8("format version");
  if (in.ok() && (format < kOldestSnapshotFormatVersion || format > kSnapshotFormatVersion)) {
    return Status::corruption("kv snapshot: unknown format version " + std::to_string(format));
  }
  KvState state;
  state.applied_index = in.u64("applied index");
  const int64_t current_revision = in.i64("current revision");
  const int64_t compact_revision = in.i64("compact revision");

  const size_t lease_count = in.count("lease count", kMaxCount, kLeaseBytes);
  for (size_t i = 0; i < lease_count && in.ok(); ++i) {
    const LeaseId id = in.i64("lease id");
    const int64_t ttl = in.i64("lease ttl");
    const int64_t remaining = in.i64("lease remaining ttl");
    if (!in.ok()) break;
    if (id == kNoLease || state.leases.contains(id)) {
      in.fail("lease id", "is zero or repeated");
      break;
    }
    state.leases.grant(id, ttl, remaining);
  }

  MvccStore::KeyIndexMap index;
  const size_t key_count = in.count("key count", kMaxCount, kMinKeyIndexBytes);
  for (size_t i = 0; i < key_count && in.ok(); ++i) {
    std::string key = in.bytes("key", kMaxKeyBytes);
    const Revision modified = read_revision(in, "modified revision");
    const size_t generation_count = in.count("generation count", kMaxCount, kMinGenerationBytes);
    std::vector<Generation> generations;
    for (size_t g = 0; g < generation_count && in.ok(); ++g) {
      Generation generation;
      generation.version = in.i64("generation version");
      generation.created = read_revision(in, "generation created revision");
      const size_t revision_count = in.count("revision count", kMaxCount, kRevisionBytes);
      for (size_t r = 0; r < revision_count && in.ok(); ++r) {
        generation.revisions.push_back(read_revision(in, "revision"));
      }
      generations.push_back(std::move(generation));
    }
    if (!in.ok()) break;
    if (!index.try_emplace(std::move(key), modified, std::move(generations)).second) {
      in.fail("key", "is repeated");
    }
  }

  MvccStore::Records records;
  const size_t record_count = in.count("record count", kMaxCount, kMinRecordBytes);
  for (size_t i = 0; i < record_count && in.ok(); ++i) {
    const Revision revision = read_revision(in, "record revision");
    MvccStore::Record record;
    record.tombstone = in.boolean("record tombstone flag");
    record.kv.key = in.bytes("record key", kMaxKeyBytes);
    if (!record.tombstone) {
      record.kv.create_revision = in.i64("record create revision");
      record.kv.mod_revision = in.i64("record mod revision");
      record.kv.version = in.i64("record version");
      record.kv.lease = in.i64("record lease");
      record.kv.value = in.bytes("record value", kMaxValueBytes);
    }
    if (!in.ok()) break;
    if (!records.emplace(revision, std::move(record)).second) in.fail("record", "is repeated");
  }
  // Version 1 images were written before members had records.
  const size_t member_count =
      format >= 2 ? in.count("member count", kMaxCount, kMinMemberBytes) : 0;
  for (size_t i = 0; i < member_count && in.ok(); ++i) {
    MemberRecord member = read_member_record(in);
    if (!in.ok()) break;
    const NodeId id = member.id;
    if (!state.members.emplace(id, std::move(member)).second) in.fail("member id", "is repeated");
  }
  const size_t alarm_count = format >= 2 ? in.count("alarm count", kMaxCount, kAlarmBytes) : 0;
  for (size_t i = 0; i < alarm_count && in.ok(); ++i) {
    Alarm alarm;
    alarm.member = in.u64("alarm member");
    const uint8_t type = in.u8("alarm type");
    if (!in.ok()) break;
    if (type < 1 || type > 2) {
      in.fail("alarm type", "is unknown");
      break;
    }
    alarm.type = static_cast<AlarmType>(type);
    if (!state.alarms.insert(alarm).second) in.fail("alarm", "is repeated");
  }
  if (in.ok() && !in.at_end()) in.fail("snapshot", "is followed by unexpected bytes");
  if (!in.ok()) return in.status();

  Result<MvccStore> mvcc = MvccStore::from_parts(current_revision, compact_revision,
                                                 std::move(index), std::move(records));
  if (!mvcc) return mvcc.status();
  state.mvcc = std::move(mvcc).value();

  if (Status attached = attach_live_keys_to_leases(state); !attached) {
    return Status::corruption("kv snapshot: " + attached.message());
  }
  return state;
}

}  // namespace dengine::kv
