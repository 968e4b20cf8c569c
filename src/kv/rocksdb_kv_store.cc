#include "kv/rocksdb_kv_store.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "common/check.h"
#include "kv/command_codec.h"
#include "kv/durable_files.h"
#include "kv/rocksdb_records.h"
#include "kv/snapshot_codec.h"

namespace dengine::kv {
namespace {

constexpr const char* kActiveFileName = "ACTIVE";
constexpr const char* kDatabasePrefix = "db-";

Status from_rocksdb(const rocksdb::Status& status, const std::string& what) {
  const std::string message = "kv: " + what + ": " + status.ToString();
  if (status.IsCorruption()) return Status::corruption(message);
  if (status.IsNotFound()) return Status::not_found(message);
  if (status.IsInvalidArgument()) return Status::invalid_argument(message);
  return Status::io_error(message);
}

std::string database_name(uint64_t generation) {
  return kDatabasePrefix + std::to_string(generation);
}

}  // namespace

namespace rocks {

// Learns from completed flushes which applied index reached the disk. Every batch writes the
// meta column family last, and atomic_flush flushes all families up to one write, so a flush
// of the meta family whose largest sequence number is S carries every apply written at or
// before S.
class FlushTracker final : public rocksdb::EventListener {
 public:
  explicit FlushTracker(Index durable) : durable_(durable) {}

  // After each committed batch: its sequence number and the applied index it carried.
  void written(rocksdb::SequenceNumber sequence, Index applied) {
    std::lock_guard lock(mutex_);
    pending_.emplace_back(sequence, applied);
  }
  // Everything written so far is on disk (an explicit flush returned).
  void all_flushed(Index applied) {
    std::lock_guard lock(mutex_);
    pending_.clear();
    raise(applied);
  }
  [[nodiscard]] Index durable() const { return durable_.load(std::memory_order_acquire); }

  void OnFlushCompleted(rocksdb::DB* /*db*/, const rocksdb::FlushJobInfo& info) override {
    if (info.cf_name != kMetaFamily) return;
    std::lock_guard lock(mutex_);
    while (!pending_.empty() && pending_.front().first <= info.largest_seqno) {
      raise(pending_.front().second);
      pending_.pop_front();
    }
  }

 private:
  void raise(Index applied) {
    if (applied > durable_.load(std::memory_order_relaxed)) {
      durable_.store(applied, std::memory_order_release);
    }
  }

  std::mutex mutex_;
  std::deque<std::pair<rocksdb::SequenceNumber, Index>> pending_;
  std::atomic<Index> durable_;
};

}  // namespace rocks

struct RocksKvStore::Database {
  std::string path;
  uint64_t generation = 0;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;  // default, records, leases, meta
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* leases = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocks::RocksRecordStore* record_store = nullptr;  // owned by state.mvcc
  std::shared_ptr<rocks::FlushTracker> tracker;
  KvState state;
  Status failure;  // a failed write: sticky, the store must be reopened

  ~Database() {
    state = KvState{};  // drops the record store before the database closes
    for (rocksdb::ColumnFamilyHandle* family : families) {
      if (db != nullptr) (void)db->DestroyColumnFamilyHandle(family);
    }
    if (db != nullptr) (void)db->Close();
  }

  // Opens the database at `path`. A snapshot image (create = false) must already hold a store.
  static Result<std::unique_ptr<Database>> open(const std::string& path, uint64_t generation,
                                                const RocksKvStoreOptions& options, bool create,
                                                bool verify_checksums);

 private:
  Status load(bool require_existing, bool verify_checksums);
  Status verify_records() const;
};

Result<std::unique_ptr<RocksKvStore::Database>> RocksKvStore::Database::open(
    const std::string& path, uint64_t generation, const RocksKvStoreOptions& options, bool create,
    bool verify_checksums) {
  auto database = std::make_unique<Database>();
  database->path = path;
  database->generation = generation;
  database->tracker = std::make_shared<rocks::FlushTracker>(0);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = create;
  // The WAL is off for every write (the Raft log is the WAL): several column families then
  // need atomic flushes, or one family could reach the disk ahead of another (docs/architecture.md
  // §9).
  db_options.atomic_flush = true;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  // RocksDB's own info log rotates at every open; a node that restarts often would collect
  // hundreds of old logs under the default limit of 1,000.
  db_options.keep_log_file_num = 4;
  db_options.max_log_file_size = 8ULL << 20;
  db_options.listeners.push_back(database->tracker);
  // A close must not flush: the engine flushes on a graceful stop, and a close that flushed
  // would let crash tests pass that a real crash (which flushes nothing) would fail.
  db_options.avoid_flush_during_shutdown = true;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Point reads of records by revision skip table files that cannot hold them.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions family_options;
  family_options.write_buffer_size = options.write_buffer_bytes;
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{
      {rocksdb::kDefaultColumnFamilyName, family_options},
      {rocks::kRecordsFamily, family_options},
      {rocks::kLeasesFamily, family_options},
      {rocks::kMetaFamily, family_options}};
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::Open(db_options, path, descriptors, &database->families, &raw);
  if (!opened.ok()) return from_rocksdb(opened, "cannot open the state machine at " + path);
  database->db.reset(raw);
  database->records = database->families[1];
  database->leases = database->families[2];
  database->meta = database->families[3];
  if (Status loaded = database->load(!create, verify_checksums); !loaded) return loaded;
  database->record_store->start_caching(options.record_cache_bytes);
  database->tracker->all_flushed(database->state.applied_index);
  return database;
}

Status RocksKvStore::Database::verify_records() const {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), records));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Result<Revision> revision = rocks::decode_revision_key(it->key().ToStringView());
    if (!revision) return Status::corruption(revision.status().message() + " in " + path);
    Result<MvccRecord> record = rocks::decode_record(it->value().ToStringView());
    if (!record) {
      return Status::corruption("kv: record at revision " + std::to_string(revision->main) + "." +
                                std::to_string(revision->sub) + " in " + path +
                                " is corrupt: " + record.status().message());
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading the records in " + path);
  return Status::ok();
}

// Rebuilds the in-memory state from what the database holds.
Status RocksKvStore::Database::load(bool require_existing, bool verify_checksums) {
  const auto read_meta = [&](const char* name) -> Result<std::optional<uint64_t>> {
    std::string value;
    const rocksdb::Status read = db->Get(rocksdb::ReadOptions(), meta, name, &value);
    if (read.IsNotFound()) return std::optional<uint64_t>();
    if (!read.ok()) return from_rocksdb(read, "reading " + std::string(name) + " in " + path);
    Result<uint64_t> decoded = rocks::decode_u64(value, name);
    if (!decoded) return Status::corruption(decoded.status().message() + " in " + path);
    return std::optional<uint64_t>(*decoded);
  };
  Result<std::optional<uint64_t>> format = read_meta(rocks::kMetaFormat);
  if (!format) return format.status();
  if (!format->has_value()) {
    if (require_existing) {
      return Status::corruption("kv: " + path + " holds no state machine (no format record)");
    }
    rocksdb::WriteBatch batch;
    (void)batch.Put(meta, rocks::kMetaFormat, rocks::encode_u64(rocks::kStoreFormatVersion));
    const rocksdb::Status written = db->Write(rocksdb::WriteOptions(), &batch);
    if (!written.ok()) return from_rocksdb(written, "initializing " + path);
    const rocksdb::Status flushed = db->Flush(rocksdb::FlushOptions(), families);
    if (!flushed.ok()) return from_rocksdb(flushed, "initializing " + path);
  } else if (**format != rocks::kStoreFormatVersion) {
    return Status::corruption("kv: " + path + " has unknown store format " +
                              std::to_string(**format));
  }
  Result<std::optional<uint64_t>> applied = read_meta(rocks::kMetaAppliedIndex);
  Result<std::optional<uint64_t>> revision = read_meta(rocks::kMetaRevision);
  Result<std::optional<uint64_t>> compacted = read_meta(rocks::kMetaCompactRevision);
  for (const auto* field : {&applied, &revision, &compacted}) {
    if (!*field) return field->status();
  }

  if (verify_checksums) {
    const rocksdb::Status verified = db->VerifyChecksum();
    if (!verified.ok()) return from_rocksdb(verified, "verifying " + path);
  }
  if (Status records_ok = verify_records(); !records_ok) return records_ok;

  KvState loaded;
  loaded.applied_index = applied->value_or(0);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), leases));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Status lease = rocks::decode_lease_into(it->key().ToStringView(), it->value().ToStringView(),
                                            loaded.leases);
    if (!lease) return Status::corruption(lease.message() + " in " + path);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading the leases in " + path);
  std::unique_ptr<rocksdb::Iterator> members(db->NewIterator(rocksdb::ReadOptions(), meta));
  for (members->Seek(
           rocksdb::Slice(rocks::kMetaMemberPrefix.data(), rocks::kMetaMemberPrefix.size()));
       members->Valid() && members->key().starts_with(rocksdb::Slice(
                               rocks::kMetaMemberPrefix.data(), rocks::kMetaMemberPrefix.size()));
       members->Next()) {
    Result<MemberRecord> member =
        rocks::decode_member(members->key().ToStringView(), members->value().ToStringView());
    if (!member) return Status::corruption(member.status().message() + " in " + path);
    const NodeId id = member->id;
    loaded.members.emplace(id, std::move(*member));
  }
  if (!members->status().ok()) {
    return from_rocksdb(members->status(), "reading the members in " + path);
  }
  std::unique_ptr<rocksdb::Iterator> alarms(db->NewIterator(rocksdb::ReadOptions(), meta));
  const rocksdb::Slice alarm_prefix(rocks::kMetaAlarmPrefix.data(), rocks::kMetaAlarmPrefix.size());
  for (alarms->Seek(alarm_prefix); alarms->Valid() && alarms->key().starts_with(alarm_prefix);
       alarms->Next()) {
    Result<Alarm> alarm = rocks::decode_alarm_key(alarms->key().ToStringView());
    if (!alarm) return Status::corruption(alarm.status().message() + " in " + path);
    loaded.alarms.insert(*alarm);
  }
  if (!alarms->status().ok()) {
    return from_rocksdb(alarms->status(), "reading the alarms in " + path);
  }

  auto store = std::make_unique<rocks::RocksRecordStore>(db.get(), records);
  rocks::RocksRecordStore* store_view = store.get();
  Result<MvccStore> mvcc = MvccStore::rebuild(
      static_cast<int64_t>(revision->value_or(1)),
      compacted->has_value() ? static_cast<int64_t>(**compacted) : -1, std::move(store));
  if (!mvcc) return Status::corruption(mvcc.status().message() + " in " + path);
  loaded.mvcc = std::move(mvcc).value();
  if (Status attached = attach_live_keys_to_leases(loaded); !attached) {
    return Status::corruption("kv: " + attached.message() + " (in " + path + ")");
  }
  state = std::move(loaded);
  record_store = store_view;
  return Status::ok();
}

// ---- opening ----

Result<std::unique_ptr<RocksKvStore>> RocksKvStore::open(const std::string& dir,
                                                         RocksKvStoreOptions options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::io_error("kv: cannot create " + dir + ": " + error.message());

  uint64_t generation = 1;
  Result<std::string> active = read_whole_file(dir + "/" + kActiveFileName);
  if (active) {
    const std::string& name = *active;
    // from_chars, not stoull: a damaged file must give an error, never an exception.
    const bool prefixed = name.size() > 3 && name.rfind(kDatabasePrefix, 0) == 0;
    const char* end = name.data() + name.size();
    const std::from_chars_result parsed =
        prefixed ? std::from_chars(name.data() + 3, end, generation) : std::from_chars_result{};
    const bool well_formed = prefixed && parsed.ec == std::errc() && parsed.ptr == end;
    if (!well_formed) {
      return Status::corruption("kv: " + dir + "/" + kActiveFileName + " names no database ('" +
                                name + "')");
    }
  } else if (active.status().code() != StatusCode::kNotFound) {
    return active.status();
  }
  const bool fresh = !active;
  // Databases other than the active one are leftovers of an interrupted snapshot install.
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kDatabasePrefix, 0) == 0 && name != database_name(generation)) {
      if (Status removed = remove_tree(entry.path().string()); !removed) return removed;
    }
  }
  if (error) return Status::io_error("kv: cannot list " + dir + ": " + error.message());

  const std::string path = dir + "/" + database_name(generation);
  if (!fresh && !std::filesystem::exists(path)) {
    return Status::corruption("kv: " + dir + "/" + kActiveFileName + " names " +
                              database_name(generation) + ", which is missing");
  }
  Result<std::unique_ptr<Database>> database =
      Database::open(path, generation, options, /*create=*/fresh, /*verify_checksums=*/false);
  if (!database) return database.status();
  if (fresh) {
    if (Status written = write_file_atomically(dir, kActiveFileName, database_name(generation));
        !written) {
      return written;
    }
  }
  return std::unique_ptr<RocksKvStore>(new RocksKvStore(dir, options, std::move(database).value()));
}

RocksKvStore::RocksKvStore(std::string dir, RocksKvStoreOptions options,
                           std::unique_ptr<Database> database)
    : dir_(std::move(dir)), options_(options), db_(std::move(database)) {
  measure();
}

RocksKvStore::~RocksKvStore() = default;

const KvState& RocksKvStore::state() const {
  return db_->state;
}

// ---- the replicated path ----

Result<ApplyResult> RocksKvStore::apply(Index index, const std::string& command) {
  if (!db_->failure) return db_->failure;
  if (index <= db_->state.applied_index) {
    ApplyResult replay;
    replay.already_applied = true;
    replay.revision = db_->state.mvcc.revision();
    return replay;
  }
  Result<KvCommand> decoded = decode_command(command);
  if (!decoded) {
    return Status(
        decoded.status().code(),
        "kv: entry " + std::to_string(index) + " cannot be applied: " + decoded.status().message(),
        decoded.status().detail());
  }
  ApplyResult result = apply_command(db_->state, index, *decoded, options_.apply);
  db_->state.applied_index = index;
  Touched touched;
  Touched& into = grouping_ ? group_touched_ : touched;
  into.leases.insert(into.leases.end(), result.changed_leases.begin(), result.changed_leases.end());
  if (const NodeId member = changed_member(*decoded); member != kNoNode) {
    into.members.push_back(member);
  }
  if (const std::optional<Alarm> alarm = changed_alarm(*decoded)) into.alarms.push_back(*alarm);
  if (grouping_) {
    ++entries_since_commit_;
    return result;
  }
  if (Status committed = commit(touched); !committed) return committed;
  return result;
}

void RocksKvStore::record_applied(Index index) {
  if (!db_->failure || index <= db_->state.applied_index) return;
  db_->state.applied_index = index;
  if (grouping_) {
    ++entries_since_commit_;
    return;
  }
  (void)commit({});  // a failure sticks and surfaces at the next apply or flush
}

void RocksKvStore::begin_group() {
  DENGINE_CHECK_MSG(!grouping_, "apply groups do not nest");
  grouping_ = true;
}

Status RocksKvStore::end_group() {
  DENGINE_CHECK_MSG(grouping_, "end_group without begin_group");
  grouping_ = false;
  if (!db_->failure) return db_->failure;
  if (entries_since_commit_ == 0) return Status::ok();
  const Status committed = commit(group_touched_);
  group_touched_ = Touched{};
  return committed;
}

Status RocksKvStore::commit(const Touched& touched) {
  Database& d = *db_;
  rocksdb::WriteBatch batch;
  d.record_store->commit_to(batch);
  for (const Alarm& alarm : touched.alarms) {
    const std::string key = rocks::alarm_key(alarm);
    const rocksdb::Status added =
        d.state.alarms.contains(alarm)
            ? batch.Put(d.meta, key, std::string(1, static_cast<char>(rocks::kStoreFormatVersion)))
            : batch.Delete(d.meta, key);
    DENGINE_CHECK_MSG(added.ok(), added.ToString());
  }
  for (const NodeId id : touched.members) {
    auto member = d.state.members.find(id);
    const rocksdb::Status added =
        member != d.state.members.end()
            ? batch.Put(d.meta, rocks::member_key(id), rocks::encode_member(member->second))
            : batch.Delete(d.meta, rocks::member_key(id));
    DENGINE_CHECK_MSG(added.ok(), added.ToString());
  }
  for (const LeaseId id : touched.leases) {
    const LeaseTable::Lease* lease = d.state.leases.find(id);
    const rocksdb::Status added =
        lease != nullptr ? batch.Put(d.leases, rocks::lease_key(id), rocks::encode_lease(*lease))
                         : batch.Delete(d.leases, rocks::lease_key(id));
    DENGINE_CHECK_MSG(added.ok(), added.ToString());
  }
  // The meta family is written last: FlushTracker relies on it.
  (void)batch.Put(d.meta, rocks::kMetaRevision,
                  rocks::encode_u64(static_cast<uint64_t>(d.state.mvcc.revision())));
  (void)batch.Put(d.meta, rocks::kMetaCompactRevision,
                  rocks::encode_u64(static_cast<uint64_t>(d.state.mvcc.compact_revision())));
  (void)batch.Put(d.meta, rocks::kMetaAppliedIndex, rocks::encode_u64(d.state.applied_index));

  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  const rocksdb::Status written = d.db->Write(write_options, &batch);
  if (!written.ok()) {
    // The in-memory state is ahead of the database now: the store must be reopened, and
    // recovery replays from what reached the disk.
    d.failure = from_rocksdb(written, "writing applied index " +
                                          std::to_string(d.state.applied_index) + " to " + d.path);
    return d.failure;
  }
  d.tracker->written(d.db->GetLatestSequenceNumber(), d.state.applied_index);
  // The quota reads the size from any thread; measuring every write would cost more than the
  // precision is worth. Counted in entries, so that grouped applies measure as often.
  commits_since_measure_ += std::max(1, entries_since_commit_);
  entries_since_commit_ = 0;
  if (commits_since_measure_ >= kCommitsPerMeasure) {
    commits_since_measure_ = 0;
    measure();
  }
  return Status::ok();
}

Index RocksKvStore::durable_applied_index() const {
  return db_->tracker->durable();
}

Status RocksKvStore::defragment() const {
  if (!db_->failure) return db_->failure;
  rocksdb::CompactRangeOptions options;
  // Every level rewritten, so that deleted and overwritten records leave the files.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* family : db_->families) {
    const rocksdb::Status compacted = db_->db->CompactRange(options, family, nullptr, nullptr);
    if (!compacted.ok()) return from_rocksdb(compacted, "defragmenting " + db_->path);
  }
  measure();
  return Status::ok();
}

Status RocksKvStore::forget_cluster() {
  if (!db_->failure) return db_->failure;
  Database& d = *db_;
  rocksdb::WriteBatch batch;
  for (const auto& [id, record] : d.state.members) {
    (void)batch.Delete(d.meta, rocks::member_key(id));
  }
  for (const Alarm& alarm : d.state.alarms) (void)batch.Delete(d.meta, rocks::alarm_key(alarm));
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;  // as every write here: durable once flushed, below
  if (const rocksdb::Status written = d.db->Write(write_options, &batch); !written.ok()) {
    return from_rocksdb(written, "dropping the member records in " + d.path);
  }
  d.state.members.clear();
  d.state.alarms.clear();
  return flush();
}

Status RocksKvStore::flush() {
  if (!db_->failure) return db_->failure;
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  const rocksdb::Status flushed = db_->db->Flush(flush_options, db_->families);
  if (!flushed.ok()) {
    db_->failure = from_rocksdb(flushed, "flushing " + db_->path);
    return db_->failure;
  }
  db_->tracker->all_flushed(db_->state.applied_index);
  return Status::ok();
}

// ---- reads ----

Result<RangeResponse> RocksKvStore::range(const RangeRequest& request) const {
  return read_range(state(), request);
}

Result<TxnResponse> RocksKvStore::read_only_txn(const TxnRequest& request) const {
  return read_txn(state(), request);
}

Result<EventBatch> RocksKvStore::events(const EventQuery& query) const {
  return read_events(state(), query);
}

std::optional<LeaseInfo> RocksKvStore::lease(LeaseId id, bool with_keys) const {
  return read_lease(state(), id, with_keys);
}

std::vector<LeaseInfo> RocksKvStore::leases() const {
  return read_leases(state());
}

std::vector<MemberRecord> RocksKvStore::member_records() const {
  return read_members(state());
}

std::vector<Alarm> RocksKvStore::alarms() const {
  return read_alarms(state());
}

uint64_t RocksKvStore::approximate_bytes() const {
  return approximate_bytes_.load(std::memory_order_relaxed);
}

void RocksKvStore::measure() const {
  // Table files that are live plus the data the memtables hold (not their arenas, which are
  // allocated ahead in megabytes): about what a flush would leave on disk.
  uint64_t tables = 0;
  (void)db_->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &tables);
  // Every key of every family sorts below 64 bytes of 0xff (revisions, lease ids, meta names).
  const std::string past_every_key(64, '\xff');
  const rocksdb::Range everything("", past_every_key);
  uint64_t buffered = 0;
  for (rocksdb::ColumnFamilyHandle* family : db_->families) {
    uint64_t count = 0;
    uint64_t bytes = 0;
    db_->db->GetApproximateMemTableStats(family, everything, &count, &bytes);
    buffered += bytes;
  }
  approximate_bytes_.store(tables + buffered, std::memory_order_relaxed);
}

std::string RocksKvStore::logical_image() const {
  return encode_snapshot(state());
}

Status RocksKvStore::check_consistency() const {
  return check_kv_state(state());
}

// ---- snapshots ----

Result<Index> RocksKvStore::write_snapshot(const std::string& dir) {
  if (!db_->failure) return db_->failure;
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status created = rocksdb::Checkpoint::Create(db_->db.get(), &raw);
  if (!created.ok()) return from_rocksdb(created, "checkpointing " + db_->path);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: flush first, so the image holds every apply so far (the WAL is
  // off, so unflushed applies would otherwise be missing from it).
  created = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!created.ok()) return from_rocksdb(created, "writing a checkpoint to " + dir);
  db_->tracker->all_flushed(db_->state.applied_index);
  return db_->state.applied_index;
}

Status RocksKvStore::install_snapshot(const std::string& dir) {
  const uint64_t generation = db_->generation + 1;
  const std::string path = dir_ + "/" + database_name(generation);
  if (Status cleared = remove_tree(path); !cleared) return cleared;
  if (Status moved = rename_durably(dir, path); !moved) return moved;
  Result<std::unique_ptr<Database>> installed =
      Database::open(path, generation, options_, /*create=*/false, /*verify_checksums=*/true);
  if (!installed) {
    (void)remove_tree(path);
    return Status::corruption(
        "kv: snapshot image " + dir +
        " is damaged or not a RocksDB store's: " + installed.status().message());
  }
  if (Status switched = write_file_atomically(dir_, kActiveFileName, database_name(generation));
      !switched) {
    (void)remove_tree(path);
    return switched;
  }
  const std::string old_path = db_->path;
  db_ = std::move(installed).value();
  measure();
  // The old database is no longer named by ACTIVE; open() would also remove it.
  (void)remove_tree(old_path);
  return Status::ok();
}

}  // namespace dengine::kv
