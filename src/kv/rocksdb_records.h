#pragma once

// The RocksDB state machine's on-disk layout (THIS IS AN ON-DISK FORMAT: change it only by
// adding a format version and keeping the old one readable), and its RecordStore.
//
// Column families, written together with RocksDB's WAL off and atomic_flush on:
//   records  key: main:u64be sub:u64be (so that byte order is revision order)
//            value: format:u8 (=1) tombstone:u8 key [unless tombstone: create:i64 mod:i64
//                   version:i64 lease:i64 value]   (common/byte_codec.h's little-endian encoding)
//   leases   key: id:u64be   value: format:u8 (=1) ttl_seconds:i64 remaining_ttl_seconds:i64
//   meta     "format" -> u8 (=1); "applied_index" -> u64; "revision" -> i64;
//            "compact_revision" -> i64;
//            "member/" id:u64be -> format:u8 (=1) record (kv/member_codec.h);
//            "alarm/" member:u64be type:u8 -> format:u8 (=1)
// Lease attachments are not stored: they follow from the live keys' lease fields.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "dengine/alarm.h"
#include "dengine/member_record.h"
#include "dengine/status.h"
#include "kv/lease_table.h"
#include "kv/record_cache.h"
#include "kv/record_store.h"

namespace dengine::kv::rocks {

inline constexpr uint8_t kStoreFormatVersion = 1;
inline constexpr const char* kRecordsFamily = "records";
inline constexpr const char* kLeasesFamily = "leases";
inline constexpr const char* kMetaFamily = "meta";
inline constexpr const char* kMetaFormat = "format";
inline constexpr const char* kMetaAppliedIndex = "applied_index";
inline constexpr const char* kMetaRevision = "revision";
inline constexpr const char* kMetaCompactRevision = "compact_revision";

std::string revision_key(Revision revision);
Result<Revision> decode_revision_key(std::string_view key);
std::string encode_record(const MvccRecord& record);
Result<MvccRecord> decode_record(std::string_view value);
std::string lease_key(LeaseId id);
std::string encode_lease(const LeaseTable::Lease& lease);
// Reads id, ttl and remaining ttl; `key` and `value` as stored.
Status decode_lease_into(std::string_view key, std::string_view value, LeaseTable& leases);
inline constexpr std::string_view kMetaMemberPrefix = "member/";
std::string member_key(NodeId id);
std::string encode_member(const MemberRecord& record);
// Checks that the key names the record's id; `key` and `value` as stored.
Result<MemberRecord> decode_member(std::string_view key, std::string_view value);
inline constexpr std::string_view kMetaAlarmPrefix = "alarm/";
std::string alarm_key(const Alarm& alarm);
Result<Alarm> decode_alarm_key(std::string_view key);
std::string encode_u64(uint64_t value);
Result<uint64_t> decode_u64(std::string_view value, std::string_view what);

// Records in the "records" column family. Writes of the entry being applied are staged: reads
// see them at once, the database only when commit_to() adds them to the entry's batch. A
// database read error is fatal (the state machine cannot answer from damaged storage).
class RocksRecordStore final : public RecordStore {
 public:
  RocksRecordStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family)
      : db_(db), family_(family) {}

  // From now on point reads keep what they decode in a cache of at most `cache_bytes` (0:
  // none). Not during the store's opening, whose checks read every record once.
  void start_caching(uint64_t cache_bytes);

  [[nodiscard]] std::optional<MvccRecord> get(Revision revision) const override;
  void put(Revision revision, const MvccRecord& record) override;
  void erase(Revision revision) override;
  void scan(Revision from, const Visitor& visit) const override;
  [[nodiscard]] std::unique_ptr<RecordStore> clone() const override { return nullptr; }

  // Moves the staged writes into `batch`.
  void commit_to(rocksdb::WriteBatch& batch);
  // Forgets the staged writes (the batch carrying them failed).
  void discard_staged() { staged_.clear(); }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  // nullopt: erased.
  std::map<Revision, std::optional<MvccRecord>> staged_;
  std::unique_ptr<RecordCache> cache_;
};

}  // namespace dengine::kv::rocks
