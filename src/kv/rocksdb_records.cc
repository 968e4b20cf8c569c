#include "kv/rocksdb_records.h"

#include <utility>

#include <rocksdb/iterator.h>

#include "common/byte_codec.h"
#include "common/check.h"
#include "kv/member_codec.h"

namespace dengine::kv::rocks {
namespace {

void put_u64_big_endian(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t get_u64_big_endian(std::string_view in) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

// A failed read of data the store wrote itself: stop rather than answer from damaged storage.
[[noreturn]] void fail_read(const std::string& what) {
  detail::check_failed("stored records are readable", __FILE__, __LINE__,
                       "kv: the RocksDB state machine cannot read its records: " + what);
}

}  // namespace

std::string revision_key(Revision revision) {
  DENGINE_CHECK(revision.main >= 0 && revision.sub >= 0);
  std::string key;
  key.reserve(16);
  put_u64_big_endian(key, static_cast<uint64_t>(revision.main));
  put_u64_big_endian(key, static_cast<uint64_t>(revision.sub));
  return key;
}

Result<Revision> decode_revision_key(std::string_view key) {
  if (key.size() != 16) {
    return Status::corruption("kv: a record key has " + std::to_string(key.size()) +
                              " bytes, not 16");
  }
  return Revision{static_cast<int64_t>(get_u64_big_endian(key)),
                  static_cast<int64_t>(get_u64_big_endian(key.substr(8)))};
}

std::string encode_record(const MvccRecord& record) {
  ByteWriter out;
  out.u8(kStoreFormatVersion);
  out.u8(record.tombstone ? 1 : 0);
  out.bytes(record.kv.key);
  if (!record.tombstone) {
    out.i64(record.kv.create_revision);
    out.i64(record.kv.mod_revision);
    out.i64(record.kv.version);
    out.i64(record.kv.lease);
    out.bytes(record.kv.value);
  }
  return out.take();
}

Result<MvccRecord> decode_record(std::string_view value) {
  ByteReader in(value, "kv record");
  const uint8_t format = in.u8("format version");
  if (in.ok() && format != kStoreFormatVersion) {
    return Status::corruption("kv record: unknown format version " + std::to_string(format));
  }
  MvccRecord record;
  record.tombstone = in.boolean("tombstone flag");
  record.kv.key = in.bytes("key", kv_limits::kMaxKeyBytes);
  if (!record.tombstone) {
    record.kv.create_revision = in.i64("create revision");
    record.kv.mod_revision = in.i64("mod revision");
    record.kv.version = in.i64("version");
    record.kv.lease = in.i64("lease");
    record.kv.value = in.bytes("value", kv_limits::kMaxValueBytes);
  }
  if (in.ok() && !in.at_end()) in.fail("record", "is followed by unexpected bytes");
  if (!in.ok()) return in.status();
  return record;
}

std::string lease_key(LeaseId id) {
  std::string key;
  put_u64_big_endian(key, static_cast<uint64_t>(id));
  return key;
}

std::string encode_lease(const LeaseTable::Lease& lease) {
  ByteWriter out;
  out.u8(kStoreFormatVersion);
  out.i64(lease.ttl_seconds);
  out.i64(lease.remaining_ttl_seconds);
  return out.take();
}

std::string member_key(NodeId id) {
  std::string key(kMetaMemberPrefix);
  put_u64_big_endian(key, id);
  return key;
}

std::string encode_member(const MemberRecord& record) {
  ByteWriter out;
  out.u8(kStoreFormatVersion);
  write_member_record(out, record);
  return out.take();
}

Result<MemberRecord> decode_member(std::string_view key, std::string_view value) {
  if (key.size() != kMetaMemberPrefix.size() + 8 || !key.starts_with(kMetaMemberPrefix)) {
    return Status::corruption("kv: a member key is not \"member/\" and 8 bytes");
  }
  ByteReader in(value, "kv member");
  const uint8_t format = in.u8("format version");
  if (in.ok() && format != kStoreFormatVersion) {
    return Status::corruption("kv member: unknown format version " + std::to_string(format));
  }
  MemberRecord record = read_member_record(in);
  if (in.ok() && !in.at_end()) in.fail("member", "is followed by unexpected bytes");
  if (!in.ok()) return in.status();
  if (record.id != get_u64_big_endian(key.substr(kMetaMemberPrefix.size()))) {
    return Status::corruption("kv member: record of member " + std::to_string(record.id) +
                              " is stored under another member's key");
  }
  return record;
}

std::string alarm_key(const Alarm& alarm) {
  std::string key(kMetaAlarmPrefix);
  put_u64_big_endian(key, alarm.member);
  key.push_back(static_cast<char>(alarm.type));
  return key;
}

Result<Alarm> decode_alarm_key(std::string_view key) {
  if (key.size() != kMetaAlarmPrefix.size() + 9 || !key.starts_with(kMetaAlarmPrefix)) {
    return Status::corruption("kv: an alarm key is not \"alarm/\" and 9 bytes");
  }
  const auto type = static_cast<uint8_t>(key.back());
  if (type < 1 || type > 2) {
    return Status::corruption("kv alarm: unknown type " + std::to_string(type));
  }
  return Alarm{.member = get_u64_big_endian(key.substr(kMetaAlarmPrefix.size(), 8)),
               .type = static_cast<AlarmType>(type)};
}

Status decode_lease_into(std::string_view key, std::string_view value, LeaseTable& leases) {
  if (key.size() != 8) return Status::corruption("kv: a lease key is not 8 bytes");
  const auto id = static_cast<LeaseId>(get_u64_big_endian(key));
  ByteReader in(value, "kv lease");
  const uint8_t format = in.u8("format version");
  const int64_t ttl = in.i64("ttl");
  const int64_t remaining = in.i64("remaining ttl");
  if (in.ok() && !in.at_end()) in.fail("lease", "is followed by unexpected bytes");
  if (!in.ok()) return in.status();
  if (format != kStoreFormatVersion) {
    return Status::corruption("kv lease: unknown format version " + std::to_string(format));
  }
  if (id == kNoLease || leases.contains(id)) {
    return Status::corruption("kv lease: id " + std::to_string(id) + " is zero or repeated");
  }
  leases.grant(id, ttl, remaining);
  return Status::ok();
}

std::string encode_u64(uint64_t value) {
  ByteWriter out;
  out.u64(value);
  return out.take();
}

Result<uint64_t> decode_u64(std::string_view value, std::string_view what) {
  ByteReader in(value, "kv meta");
  const uint64_t decoded = in.u64(what);
  if (in.ok() && !in.at_end()) in.fail(what, "is longer than 8 bytes");
  if (!in.ok()) return in.status();
  return decoded;
}

// ---- RocksRecordStore ----

void RocksRecordStore::start_caching(uint64_t cache_bytes) {
  cache_ = cache_bytes > 0 ? std::make_unique<RecordCache>(cache_bytes) : nullptr;
}

std::optional<MvccRecord> RocksRecordStore::get(Revision revision) const {
  if (auto staged = staged_.find(revision); staged != staged_.end()) return staged->second;
  if (cache_ != nullptr) {
    if (std::optional<MvccRecord> cached = cache_->find(revision)) return cached;
  }
  rocksdb::PinnableSlice value;
  const rocksdb::Status read =
      db_->Get(rocksdb::ReadOptions(), family_, revision_key(revision), &value);
  if (read.IsNotFound()) return std::nullopt;
  if (!read.ok()) fail_read(read.ToString());
  Result<MvccRecord> record = decode_record(value.ToStringView());
  if (!record) fail_read(record.status().message());
  if (cache_ != nullptr) cache_->insert(revision, *record);
  return std::move(record).value();
}

void RocksRecordStore::put(Revision revision, const MvccRecord& record) {
  staged_.insert_or_assign(revision, record);
}

void RocksRecordStore::erase(Revision revision) {
  if (cache_ != nullptr) cache_->erase(revision);
  staged_.insert_or_assign(revision, std::nullopt);
}

// The database's records merged with the staged writes, which take precedence.
void RocksRecordStore::scan(Revision from, const Visitor& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  it->Seek(revision_key(from));
  auto staged = staged_.lower_bound(from);
  while (true) {
    std::optional<Revision> stored;
    if (it->Valid()) {
      Result<Revision> decoded = decode_revision_key(it->key().ToStringView());
      if (!decoded) fail_read(decoded.status().message());
      stored = *decoded;
    } else if (!it->status().ok()) {
      fail_read(it->status().ToString());
    }
    const bool take_staged = staged != staged_.end() && (!stored || staged->first <= *stored);
    if (take_staged) {
      const bool shadows_stored = stored && staged->first == *stored;
      const std::optional<MvccRecord>& record = staged->second;
      const Revision revision = staged->first;
      ++staged;
      if (shadows_stored) it->Next();
      if (record && !visit(revision, *record)) return;
      continue;
    }
    if (!stored) return;
    Result<MvccRecord> record = decode_record(it->value().ToStringView());
    if (!record) fail_read(record.status().message());
    if (!visit(*stored, *record)) return;
    it->Next();
  }
}

void RocksRecordStore::commit_to(rocksdb::WriteBatch& batch) {
  for (const auto& [revision, record] : staged_) {
    const std::string key = revision_key(revision);
    const rocksdb::Status added =
        record ? batch.Put(family_, key, encode_record(*record)) : batch.Delete(family_, key);
    DENGINE_CHECK_MSG(added.ok(), added.ToString());
    // What was just written is what is read next (a watcher's prev_kv, a get after a put).
    if (record && cache_ != nullptr) cache_->insert(revision, *record);
  }
  staged_.clear();
}

}  // namespace dengine::kv::rocks
