#include "log/rocksdb_log_store.h"

#include <algorithm>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "common/check.h"
#include "log/append_checks.h"
#include "log/crc32c.h"
#include "log/posix_file_system.h"
#include "log/record.h"

namespace dengine::log {
namespace {

constexpr std::string_view kWho = "rocksdb log";

constexpr uint8_t kFormatV1 = 1;
constexpr size_t kCrcBytes = 4;
constexpr size_t kEntryFieldBytes = 9;  // term u64, entry type u8; then the data
constexpr size_t kHardStateFieldBytes = 24;
constexpr size_t kLogStartFieldBytes = 16;

constexpr uint64_t kMinWriteBufferBytes = 64ULL << 10;
constexpr uint64_t kMaxWriteBufferBytes = 1ULL << 30;
// RocksDB keeps a value's length in 32 bits; one append is one write batch held in memory.
constexpr uint64_t kMaxAppendBytes = 1ULL << 30;
constexpr size_t kBlockCacheBytes = 8 << 20;

// Handle positions in RocksDbLogStore::handles_.
constexpr size_t kEntriesHandle = 1;
constexpr size_t kMetaHandle = 2;

// Appends the CRC32C of `key` and of the value so far.
void seal(std::string_view key, std::string& value) {
  put_u32(value, crc32c_extend(crc32c(key), value.data(), value.size()));
}

std::string new_value(size_t payload_bytes) {
  std::string value;
  value.reserve(1 + payload_bytes + kCrcBytes);
  value.push_back(static_cast<char>(kFormatV1));
  return value;
}

std::string encode_entry_value(std::string_view key, const Entry& entry) {
  std::string value = new_value(kEntryFieldBytes + entry.data.size());
  put_u64(value, entry.term);
  value.push_back(static_cast<char>(entry.type));
  value.append(entry.data);
  seal(key, value);
  return value;
}

std::string encode_hard_state_value(const HardState& hard_state) {
  std::string value = new_value(kHardStateFieldBytes);
  put_u64(value, hard_state.term);
  put_u64(value, hard_state.vote);
  put_u64(value, hard_state.commit);
  seal(kHardStateKey, value);
  return value;
}

std::string encode_log_start_value(Index first_index, Term prev_term) {
  std::string value = new_value(kLogStartFieldBytes);
  put_u64(value, first_index);
  put_u64(value, prev_term);
  seal(kLogStartKey, value);
  return value;
}

// A value written by seal(): its payload (between the format byte and the checksum), or, in
// `problem`, why it is not one.
struct Unsealed {
  std::string_view payload;
  std::string problem;
};

Unsealed unseal(std::string_view key, std::string_view value) {
  if (value.size() < 1 + kCrcBytes) {
    return {{}, "a value of " + std::to_string(value.size()) + " bytes is too short"};
  }
  const auto format = static_cast<uint8_t>(value[0]);
  if (format != kFormatV1) return {{}, "unknown format byte " + std::to_string(format)};
  const size_t crc_offset = value.size() - kCrcBytes;
  const uint32_t expected = crc32c_extend(crc32c(key), value.data(), crc_offset);
  const uint32_t found = get_u32(value.data() + crc_offset);
  if (expected != found) {
    return {{}, "checksum mismatch (expected " + hex32(expected) + ", found " + hex32(found) + ")"};
  }
  return {value.substr(1, crc_offset - 1), {}};
}

std::optional<Index> decode_entry_key(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  Index index = 0;
  for (const char byte : key) index = (index << 8) | static_cast<uint8_t>(byte);
  return index;
}

// The entry stored under `key` at `index`, or why the value is not one.
std::optional<Entry> decode_entry_value(Index index, std::string_view key, std::string_view value,
                                        std::string& problem) {
  const Unsealed unsealed = unseal(key, value);
  if (!unsealed.problem.empty()) {
    problem = unsealed.problem;
    return std::nullopt;
  }
  if (unsealed.payload.size() < kEntryFieldBytes) {
    problem = "an entry payload of " + std::to_string(unsealed.payload.size()) + " bytes";
    return std::nullopt;
  }
  Entry entry;
  entry.index = index;
  entry.term = get_u64(unsealed.payload.data());
  entry.type = static_cast<EntryType>(static_cast<uint8_t>(unsealed.payload[8]));
  entry.data.assign(unsealed.payload.substr(kEntryFieldBytes));
  return entry;
}

Status from_rocksdb(const std::string& context, const rocksdb::Status& st) {
  StatusCode code = StatusCode::kIoError;
  if (st.IsCorruption()) code = StatusCode::kCorruption;
  if (st.IsInvalidArgument()) code = StatusCode::kInvalidArgument;
  if (st.IsNoSpace()) code = StatusCode::kResourceExhausted;
  return {code, std::string(kWho) + ": " + context + ": " + st.ToString()};
}

// Why these options:
//  * Point-in-time WAL recovery (RocksDB's default, spelled out because the contract rests on
//    it): recovery keeps the WAL up to its first damaged record, i.e. a prefix of the write
//    batches, and drops a torn tail left by a crash.
//  * atomic_flush: both column families are flushed together. The meta family's memtable holds
//    a few small keys and would otherwise rarely fill, pinning every WAL file since its last
//    flush; and the SST files never hold one family ahead of the other.
//  * No automatic resume after a background error: fatal means fatal (STYLE.md); a restart
//    recovers from what is on disk.
//  * Modest memory: small memtables (RocksDbLogOptions) and one 8 MiB block cache for both
//    families; reads mostly hit the memtables, since Raft reads back recent entries.
//  * No compression: entries live only until the log is compacted behind a snapshot, and a
//    state machine's commands are small or already compact; compressing them costs CPU for
//    little disk.
//  * RocksDB's info LOG is capped at four files of 8 MiB (the default keeps 1,000).
//  * manual_wal_flush stays off: each write batch reaches the WAL file before Write() returns,
//    so sync() only has to fsync.
rocksdb::DBOptions make_db_options(rocksdb::Env* env) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.atomic_flush = true;
  options.max_bgerror_resume_count = 0;
  options.manual_wal_flush = false;
  options.keep_log_file_num = 4;
  options.max_log_file_size = 8 << 20;
  if (env != nullptr) options.env = env;
  return options;
}

rocksdb::ColumnFamilyOptions make_column_family_options(const RocksDbLogOptions& options,
                                                        std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.max_write_buffer_number = 2;
  cf.compression = rocksdb::kNoCompression;
  cf.bottommost_compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

std::string rocksdb_entry_key(Index index) {
  std::string key(8, '\0');
  for (size_t i = 8; i-- > 0; index >>= 8) key[i] = static_cast<char>(index & 0xff);
  return key;
}

RocksDbLogStore::RocksDbLogStore(std::string db_dir, rocksdb::DB* db,
                                 std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : db_dir_(std::move(db_dir)),
      db_(db),
      handles_(std::move(handles)),
      entries_cf_(handles_.at(kEntriesHandle)),
      meta_cf_(handles_.at(kMetaHandle)) {}

RocksDbLogStore::~RocksDbLogStore() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    static_cast<void>(db_->DestroyColumnFamilyHandle(handle));
  }
  // Nothing to act on: a failed close leaves the WAL for the next open to recover.
  static_cast<void>(db_->Close());
}

Result<RocksDbLogStore::Opened> RocksDbLogStore::open(const std::string& data_dir,
                                                      const RocksDbLogOptions& options,
                                                      rocksdb::Env* env) {
  if (options.write_buffer_bytes < kMinWriteBufferBytes ||
      options.write_buffer_bytes > kMaxWriteBufferBytes) {
    return Status::invalid_argument(std::string(kWho) +
                                    ": write_buffer_bytes must be between 64 KiB and 1 GiB, not " +
                                    std::to_string(options.write_buffer_bytes));
  }
  // As the WAL does: a new directory is durable only once its parent is synced, and RocksDB
  // syncs only the directory it writes in.
  PosixFileSystem fs;
  const std::string db_dir = join_path(data_dir, kRocksDbLogDirName);
  auto with_context = [&](const std::string& context, const Status& cause) {
    return Status(cause.code(), std::string(kWho) + ": " + context + ": " + cause.message(),
                  cause.detail());
  };
  Result<bool> created = fs.create_dir(data_dir);
  if (!created) return with_context("creating " + data_dir, created.status());
  if (*created) {
    if (Status st = fs.sync_dir(parent_dir(data_dir)); !st) {
      return with_context("fsync of the parent of " + data_dir, st);
    }
  }
  created = fs.create_dir(db_dir);
  if (!created) return with_context("creating " + db_dir, created.status());
  if (Status st = fs.sync_dir(data_dir); !st) return with_context("fsync of " + data_dir, st);

  const rocksdb::ColumnFamilyOptions cf_options =
      make_column_family_options(options, rocksdb::NewLRUCache(kBlockCacheBytes));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {std::string(kEntriesColumnFamily), cf_options},
      {std::string(kMetaColumnFamily), cf_options},
  };
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  const rocksdb::Status opened =
      rocksdb::DB::Open(make_db_options(env), db_dir, families, &handles, &db);
  if (!opened.ok()) return from_rocksdb("opening " + db_dir, opened);
  DENGINE_CHECK(handles.size() == families.size());
  std::unique_ptr<RocksDbLogStore> store(new RocksDbLogStore(db_dir, db, std::move(handles)));

  RecoveredLog recovered;
  if (Status st = store->recover(recovered); !st) return st;
  // The caller treats every recovered entry as durable (Raft acknowledges them), and after a
  // process crash RocksDB may have read them from a WAL only in the page cache. Opening
  // already flushes what it replayed to synced SST files (avoid_flush_during_recovery is off);
  // this flush says so here instead of relying on a default.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (rocksdb::Status st = db->Flush(flush, {store->entries_cf_, store->meta_cf_}); !st.ok()) {
    return from_rocksdb("flushing the recovered log in " + db_dir, st);
  }
  return Opened{std::move(store), std::move(recovered)};
}

Status RocksDbLogStore::corrupt(const std::string& what, const std::string& problem) const {
  return Status::corruption(std::string(kWho) + ": corrupt " + what + " in " + db_dir_ + ": " +
                            problem);
}

Status RocksDbLogStore::recover(RecoveredLog& recovered) {
  rocksdb::ReadOptions read;
  read.fill_cache = false;  // one pass over everything
  std::string value;
  rocksdb::Status st = db_->Get(read, meta_cf_, kLogStartKey, &value);
  if (st.ok()) {
    const Unsealed unsealed = unseal(kLogStartKey, value);
    if (!unsealed.problem.empty()) return corrupt("log start", unsealed.problem);
    if (unsealed.payload.size() != kLogStartFieldBytes) {
      return corrupt("log start", std::to_string(unsealed.payload.size()) + " bytes");
    }
    first_index_ = get_u64(unsealed.payload.data());
    prev_term_ = get_u64(unsealed.payload.data() + 8);
  } else if (!st.IsNotFound()) {
    return from_rocksdb("reading the log start in " + db_dir_, st);
  }
  st = db_->Get(read, meta_cf_, kHardStateKey, &value);
  if (st.ok()) {
    const Unsealed unsealed = unseal(kHardStateKey, value);
    if (!unsealed.problem.empty()) return corrupt("hard state", unsealed.problem);
    if (unsealed.payload.size() != kHardStateFieldBytes) {
      return corrupt("hard state", std::to_string(unsealed.payload.size()) + " bytes");
    }
    hard_state_.term = get_u64(unsealed.payload.data());
    hard_state_.vote = get_u64(unsealed.payload.data() + 8);
    hard_state_.commit = get_u64(unsealed.payload.data() + 16);
  } else if (!st.IsNotFound()) {
    return from_rocksdb("reading the hard state in " + db_dir_, st);
  }

  // Every write batch keeps the stored entries contiguous from the log start on, so anything
  // else is damage: a gap, an entry before the start, a value that fails its checksum.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, entries_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const Index expected = first_index_ + terms_.size();
    const std::optional<Index> index = decode_entry_key(key);
    if (!index) return corrupt("entry key", std::to_string(key.size()) + " bytes, not 8");
    if (*index < expected) {  // keys are unique and sorted: only before the first entry
      return corrupt("log", "entry " + std::to_string(*index) +
                                " is stored, but the log starts at " +
                                std::to_string(first_index_));
    }
    if (*index > expected) {
      return corrupt("log", "entry " + std::to_string(expected) +
                                " is missing (the next stored entry is " + std::to_string(*index) +
                                ")");
    }
    std::string problem;
    std::optional<Entry> entry =
        decode_entry_value(*index, key, it->value().ToStringView(), problem);
    if (!entry) return corrupt("entry " + std::to_string(*index), problem);
    terms_.push_back(entry->term);
    recovered.entries.push_back(std::move(*entry));
  }
  if (!it->status().ok()) return from_rocksdb("reading the entries in " + db_dir_, it->status());
  recovered.hard_state = hard_state_;
  recovered.first_index = first_index_;
  recovered.prev_term = prev_term_;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Writing

Status RocksDbLogStore::append(std::span<const Entry> entries,
                               const std::optional<HardState>& hard_state) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (Status st = check_append(kWho, first_index_, last_index_locked(), hard_state_.commit, entries,
                               hard_state);
      !st) {
    return st;
  }
  uint64_t bytes = 0;
  for (const Entry& entry : entries) bytes += entry.data.size();
  if (bytes > kMaxAppendBytes) {
    return Status::invalid_argument(std::string(kWho) + ": an append of " + std::to_string(bytes) +
                                    " bytes of entries is over the bound of 1 GiB");
  }
  ++stats_.appends;
  if (entries.empty() && !hard_state) return Status::ok();

  rocksdb::WriteBatch batch;
  if (!entries.empty()) {
    // A conflicting suffix: the puts below overwrite up to entries.back(); delete the rest.
    const Index new_last = entries.back().index;
    if (last_index_locked() > new_last) {
      batch.DeleteRange(entries_cf_, rocksdb_entry_key(new_last + 1),
                        rocksdb_entry_key(last_index_locked() + 1));
    }
    for (const Entry& entry : entries) {
      const std::string key = rocksdb_entry_key(entry.index);
      batch.Put(entries_cf_, key, encode_entry_value(key, entry));
    }
  }
  if (hard_state) batch.Put(meta_cf_, kHardStateKey, encode_hard_state_value(*hard_state));
  const std::string what = entries.empty()
                               ? std::string("writing the hard state")
                               : "writing entries [" + std::to_string(entries.front().index) +
                                     ", " + std::to_string(entries.back().index) + "]";
  if (Status st = write_locked(batch, what); !st) return st;

  if (!entries.empty()) {
    terms_.resize(entries.front().index - first_index_);
    for (const Entry& entry : entries) terms_.push_back(entry.term);
  }
  if (hard_state) hard_state_ = *hard_state;
  return Status::ok();
}

Status RocksDbLogStore::write_locked(rocksdb::WriteBatch& batch, const std::string& what) {
  rocksdb::WriteOptions options;
  options.sync = false;  // sync() makes it durable, once for every caller waiting
  const rocksdb::Status st = db_->Write(options, &batch);
  if (!st.ok()) return fail(from_rocksdb(what + " in " + db_dir_, st));
  ++written_batches_;
  return Status::ok();
}

Status RocksDbLogStore::fail(const Status& cause) {
  if (failed_.is_ok()) {
    failed_ = Status::io_error(
        cause.message() + " (the log store has stopped; restart to recover from what is on disk)");
  }
  sync_done_.notify_all();
  return failed_;
}

// ---------------------------------------------------------------------------------------
// Group commit

Status RocksDbLogStore::sync() {
  std::unique_lock lock(mu_);
  ++stats_.sync_calls;
  const uint64_t target = written_batches_;
  while (true) {
    if (!failed_.is_ok()) return failed_;
    if (synced_batches_ >= target) return Status::ok();
    if (sync_in_progress_) {
      // A sync is running; it may not cover our batches, so check again when it ends.
      sync_done_.wait(lock);
      continue;
    }
    // Lead: sync every batch written so far, without the lock so appends continue meanwhile.
    sync_in_progress_ = true;
    const uint64_t covers = written_batches_;
    lock.unlock();
    const rocksdb::Status st = db_->SyncWAL();
    lock.lock();
    sync_in_progress_ = false;
    ++stats_.wal_syncs;
    if (!st.ok()) {
      static_cast<void>(fail(from_rocksdb("syncing the WAL in " + db_dir_, st)));
    } else {
      synced_batches_ = std::max(synced_batches_, covers);
    }
    sync_done_.notify_all();
  }
}

// ---------------------------------------------------------------------------------------
// Reading

Result<std::vector<Entry>> RocksDbLogStore::entries(Index lo, Index hi, uint64_t max_bytes) const {
  const std::string upper_key = rocksdb_entry_key(hi);
  const rocksdb::Slice upper(upper_key);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it;
  {
    std::lock_guard lock(mu_);
    if (!failed_.is_ok()) return failed_;
    if (lo < first_index_) {
      return Status::not_found(std::string(kWho) + ": entry " + std::to_string(lo) +
                               " was compacted (first index " + std::to_string(first_index_) + ")");
    }
    if (lo > hi || hi > last_index_locked() + 1) {
      return Status::invalid_argument(
          std::string(kWho) + ": entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
          ") are not in the log (last index " + std::to_string(last_index_locked()) + ")");
    }
    if (lo == hi) return std::vector<Entry>{};
    // The iterator reads the database as of now: appends after the lock is released do not
    // change what it returns.
    it.reset(db_->NewIterator(read, entries_cf_));
  }
  std::vector<Entry> out;
  uint64_t bytes = 0;
  it->Seek(rocksdb_entry_key(lo));
  for (Index index = lo; index < hi; ++index, it->Next()) {
    if (!it->Valid()) {
      if (!it->status().ok()) {
        return from_rocksdb("reading entry " + std::to_string(index) + " in " + db_dir_,
                            it->status());
      }
      return corrupt("log", "entry " + std::to_string(index) + " is missing");
    }
    const std::string_view key = it->key().ToStringView();
    if (decode_entry_key(key) != index) {
      return corrupt("log", "entry " + std::to_string(index) + " is missing");
    }
    std::string problem;
    std::optional<Entry> entry =
        decode_entry_value(index, key, it->value().ToStringView(), problem);
    if (!entry) return corrupt("entry " + std::to_string(index), problem);
    if (!out.empty() && bytes + entry->data.size() > max_bytes) break;
    bytes += entry->data.size();
    out.push_back(std::move(*entry));
  }
  return out;
}

Result<Term> RocksDbLogStore::term(Index index) const {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (index + 1 < first_index_) {
    return Status::not_found(std::string(kWho) + ": entry " + std::to_string(index) +
                             " was compacted (first index " + std::to_string(first_index_) + ")");
  }
  if (index > last_index_locked()) {
    return Status::invalid_argument(std::string(kWho) + ": no entry " + std::to_string(index) +
                                    " (last index " + std::to_string(last_index_locked()) + ")");
  }
  if (index + 1 == first_index_) return prev_term_;
  return terms_[index - first_index_];
}

Index RocksDbLogStore::first_index() const {
  std::lock_guard lock(mu_);
  return first_index_;
}

Index RocksDbLogStore::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_locked();
}

HardState RocksDbLogStore::hard_state() const {
  std::lock_guard lock(mu_);
  return hard_state_;
}

RocksDbLogStats RocksDbLogStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// ---------------------------------------------------------------------------------------
// Snapshot installation and compaction: each one write batch, ordered with the appends.

Status RocksDbLogStore::reset(Index snapshot_index, Term snapshot_term) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (Status st = check_reset(kWho, hard_state_.commit, snapshot_index, snapshot_term); !st) {
    return st;
  }
  rocksdb::WriteBatch batch;
  if (!terms_.empty()) {
    batch.DeleteRange(entries_cf_, rocksdb_entry_key(first_index_),
                      rocksdb_entry_key(last_index_locked() + 1));
  }
  batch.Put(meta_cf_, kLogStartKey, encode_log_start_value(snapshot_index + 1, snapshot_term));
  if (Status st = write_locked(batch, "installing a snapshot at " + std::to_string(snapshot_index));
      !st) {
    return st;
  }
  terms_.clear();
  first_index_ = snapshot_index + 1;
  prev_term_ = snapshot_term;
  return Status::ok();
}

// Drops exactly the entries asked for (up to the last one). The disk space comes back when
// RocksDB compacts the deleted range away.
Status RocksDbLogStore::compact(Index up_to_index) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  const Index new_first = std::min(up_to_index, last_index_locked()) + 1;
  if (new_first <= first_index_) return Status::ok();
  const Term new_prev_term = terms_[new_first - 1 - first_index_];
  rocksdb::WriteBatch batch;
  batch.DeleteRange(entries_cf_, rocksdb_entry_key(first_index_), rocksdb_entry_key(new_first));
  batch.Put(meta_cf_, kLogStartKey, encode_log_start_value(new_first, new_prev_term));
  if (Status st = write_locked(batch, "compacting entries [" + std::to_string(first_index_) + ", " +
                                          std::to_string(new_first - 1) + "]");
      !st) {
    return st;
  }
  terms_.erase(terms_.begin(), terms_.begin() + static_cast<ptrdiff_t>(new_first - first_index_));
  first_index_ = new_first;
  prev_term_ = new_prev_term;
  return Status::ok();
}

}  // namespace dengine::log

namespace dengine {

Result<OpenedLogStore> open_rocksdb_log_store(const std::string& data_dir,
                                              const RocksDbLogOptions& options) {
  Result<log::RocksDbLogStore::Opened> opened = log::RocksDbLogStore::open(data_dir, options);
  if (!opened) return opened.status();
  return OpenedLogStore{std::move(opened->store), std::move(opened->recovered)};
}

}  // namespace dengine
