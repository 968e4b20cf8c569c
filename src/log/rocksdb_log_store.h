#pragma once

// The RocksDB log store: a LogStore for users who want one storage engine for everything
// (docs/architecture.md §3). Same contract and the same argument checks as the segmented WAL.
//
// Layout: a RocksDB database in `<data-dir>/raftlog/` with two column families of our own.
//  * "entries": key = the entry's index, 8 bytes big-endian (so RocksDB's bytewise order is
//    index order); value = format byte, term u64, entry type u8, data, CRC32C u32.
//  * "meta": "hard_state" = format byte, term u64, vote u64, commit u64, CRC32C u32;
//    "log_start" = format byte, first index u64, prev term u64, CRC32C u32 (absent: the log
//    starts at index 1 after term 0).
// Integers in values are little-endian, like the WAL's records. Each CRC32C covers the key and
// the value's bytes before it, so a value copied under another key fails it too. The format
// byte (1) lets a later layout be read beside this one.
//
// Why these choices:
//  * One rocksdb::WriteBatch per operation, with RocksDB's own WAL on: an append's suffix
//    truncation, entries and hard state (or a compaction's deletions and new log start) are
//    one WAL record, so recovery keeps all of it or none of it. Recovery of the WAL in
//    point-in-time mode keeps a prefix of the batches: the contract's "prefix of the
//    operations".
//  * Writes are not synced (WriteOptions::sync = false): append() returns once the batch is in
//    the WAL file, like the segmented WAL's pwrite. sync() is group commit without threads of
//    its own: the first caller leads and runs SyncWAL() without the lock; callers arriving
//    meanwhile wait and the first of them not covered leads the next one.
//  * Our own CRC32C beside RocksDB's block checksums: RocksDB covers damage of its files; ours
//    makes every store report a bad record the same way (kCorruption naming the index), and
//    catches a value written under the wrong key.
//  * The terms of the stored entries stay in memory (8 bytes an entry, as the WAL keeps their
//    locations), so term(), last_index() and the argument checks never read the database.
//  * Any write or sync error is fatal: the store stops and reports the first error forever,
//    and RocksDB's automatic resume after a background error is off.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/log_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace dengine::log {

// The layout, for tests that write into the database directly.
inline constexpr std::string_view kRocksDbLogDirName = "raftlog";
inline constexpr std::string_view kEntriesColumnFamily = "entries";
inline constexpr std::string_view kMetaColumnFamily = "meta";
inline constexpr std::string_view kHardStateKey = "hard_state";
inline constexpr std::string_view kLogStartKey = "log_start";
// 8 bytes, big-endian.
std::string rocksdb_entry_key(Index index);

struct RocksDbLogStats {
  uint64_t appends = 0;
  uint64_t sync_calls = 0;  // sync() calls
  uint64_t wal_syncs = 0;   // SyncWAL() calls they ran (fewer when they were shared)
};

class RocksDbLogStore final : public LogStore {
 public:
  struct Opened {
    std::unique_ptr<RocksDbLogStore> store;
    RecoveredLog recovered;
  };
  // `env`, when given (tests inject faults with it), must outlive the store.
  static Result<Opened> open(const std::string& data_dir, const RocksDbLogOptions& options,
                             rocksdb::Env* env = nullptr);
  ~RocksDbLogStore() override;

  Status append(std::span<const Entry> entries,
                const std::optional<HardState>& hard_state) override;
  Status sync() override;
  Result<std::vector<Entry>> entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> term(Index index) const override;
  Index first_index() const override;
  Index last_index() const override;
  HardState hard_state() const override;
  Status compact(Index up_to_index) override;
  Status reset(Index snapshot_index, Term snapshot_term) override;

  [[nodiscard]] RocksDbLogStats stats() const;
  [[nodiscard]] const std::string& db_dir() const { return db_dir_; }

 private:
  RocksDbLogStore(std::string db_dir, rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*> handles);

  Status recover(RecoveredLog& recovered);
  // All with mu_ held.
  Status write_locked(rocksdb::WriteBatch& batch, const std::string& what);
  Status fail(const Status& cause);
  [[nodiscard]] Index last_index_locked() const { return first_index_ + terms_.size() - 1; }
  [[nodiscard]] Status corrupt(const std::string& what, const std::string& problem) const;

  const std::string db_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, entries, meta
  rocksdb::ColumnFamilyHandle* const entries_cf_;
  rocksdb::ColumnFamilyHandle* const meta_cf_;

  mutable std::mutex mu_;
  std::condition_variable sync_done_;
  std::deque<Term> terms_;  // terms_[i] is the term of entry first_index_ + i
  Index first_index_ = 1;
  Term prev_term_ = 0;
  HardState hard_state_;

  // Group commit: write batches ever written, and those known durable.
  uint64_t written_batches_ = 0;
  uint64_t synced_batches_ = 0;
  bool sync_in_progress_ = false;

  Status failed_;  // set once, by the first write or sync error
  RocksDbLogStats stats_;
};

}  // namespace dengine::log
