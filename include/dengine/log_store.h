#pragma once

// LogStore: what survives a crash of the replicated log and the Raft hard state
// (docs/architecture.md §3).
//
// The Raft core keeps its own in-memory copy of the log; the store is the durable copy that
// the append worker writes and that a restarting node reads back. It knows entries and hard
// state as data only: no terms are compared, no commit rules applied.
//
// Contract
//  * Thread-safety: every method may be called from any thread. Appends are applied in the
//    order their calls take the store's lock; the Raft runtime calls append() from one append
//    worker, which also gives the order the Ready contract requires.
//  * Ordering and atomicity: append(entries, hard_state) first discards every stored entry at
//    or after entries.front().index (a follower overwriting a conflicting suffix), then stores
//    `entries`, then `hard_state`. After a crash the store recovers the effect of a *prefix* of
//    the operations it was given, as if writes had stopped at some point: the hard state of an
//    append is never recovered without that append's entries, and no entry is recovered
//    without every entry before it. A crash in the middle of an append may keep part of it.
//  * Durability: append() returns once the data is written, not once it is durable. sync()
//    returns once every append that returned before sync() was called (on any thread) is
//    durable; a crash after that loses none of it. Concurrent sync() calls share one
//    fdatasync (group commit): callers arriving while a sync runs wait and are covered by
//    the next one. sync_async() gives the same promise through a callback.
//  * Errors are values. Invalid arguments (non-contiguous entries, a gap, overwriting
//    compacted entries, a hard state whose commit passes the last index) are refused with
//    kInvalidArgument and change nothing. Any I/O error while writing or syncing is fatal:
//    the store stops, and that call and every later call (reads included) return kIoError
//    naming the original failure. It is never retried: after a failed fdatasync the kernel
//    may have dropped the dirty pages, so the only safe continuation is a restart that
//    recovers from what is on disk.
//  * Recovery (opening a store) truncates a torn tail left by a crash and reports it in
//    RecoveredLog::repairs, and makes everything it returns durable before returning (after a
//    process crash the recovered tail may have been only in the page cache). Damage before the tail
//    is corruption: the store refuses to open with kCorruption and a message naming the file and
//    offset and containing "corrupt" or "checksum".

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine {

// What a store holds when it is opened.
struct RecoveredLog {
  HardState hard_state;
  // Index of entries.front(), or last index + 1 when there are no entries. Entries before it
  // were compacted away.
  Index first_index = 1;
  // Term of the entry at first_index - 1 (the last compacted one); 0 when first_index is 1.
  Term prev_term = 0;
  // Contiguous: entries[i].index == first_index + i.
  std::vector<Entry> entries;
  // What recovery repaired, one line each (a torn tail truncated, leftover files removed).
  std::vector<std::string> repairs;

  [[nodiscard]] Index last_index() const { return first_index + entries.size() - 1; }
};

class LogStore {
 public:
  virtual ~LogStore() = default;
  LogStore() = default;
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Stores `entries` (contiguous, entries.front().index in [first_index(), last_index() + 1])
  // after discarding any stored entry at or after entries.front().index, then `hard_state`.
  // Either may be empty. Written, not yet durable: see sync().
  virtual Status append(std::span<const Entry> entries,
                        const std::optional<HardState>& hard_state) = 0;

  // Returns once everything appended before this call is durable.
  virtual Status sync() = 0;

  // What sync_async() calls with sync()'s outcome.
  using SyncDone = std::function<void(const Status&)>;
  // The same promise as sync() without holding the calling thread while the disk works: calls
  // `done` once everything appended before this call is durable, or with the error that stopped
  // the store. An event loop can keep many appenders in flight on one thread and still share
  // each fdatasync between them. `done` may run on the calling thread before this returns
  // (nothing to sync, or a store that cannot do better: this default), or later on a thread of
  // the store's, in call order; there it delays the syncs of others, so it must be short, and
  // it must not call sync() (appending and calling sync_async() again are fine). The store must
  // outlive every pending `done`: its destructor waits for them.
  virtual void sync_async(SyncDone done) { done(sync()); }

  // Entries in [lo, hi): at least one when lo < hi, then as many as fit in max_bytes of
  // entry data. kNotFound when lo < first_index() (compacted); kInvalidArgument when hi is
  // past last_index() + 1 or lo > hi; kCorruption when a stored record fails its checksum.
  [[nodiscard]] virtual Result<std::vector<Entry>> entries(Index lo, Index hi,
                                                           uint64_t max_bytes) const = 0;

  // Term of the entry at `index`, for index in [first_index() - 1, last_index()]; 0 for 0.
  [[nodiscard]] virtual Result<Term> term(Index index) const = 0;

  [[nodiscard]] virtual Index first_index() const = 0;
  // first_index() - 1 when the store holds no entries.
  [[nodiscard]] virtual Index last_index() const = 0;
  // The hard state of the latest append that carried one.
  [[nodiscard]] virtual HardState hard_state() const = 0;

  // Installs a snapshot (the Ready contract's step 0): discards every stored entry; the log
  // continues after `snapshot_index`, whose term is `snapshot_term` (first_index() becomes
  // snapshot_index + 1). Ordered with appends like one, and durable no later than the next
  // sync(). kInvalidArgument when the hard state commits an index past snapshot_index. The
  // snapshot's other metadata (its configuration) and its bytes are not the log's to keep.
  virtual Status reset(Index snapshot_index, Term snapshot_term) = 0;

  // The caller no longer needs entries at or before `up_to_index` (docs/architecture.md §3: only
  // what the state machine made durable itself). The store may drop them, in whole units (the WAL
  // drops whole segments, never the one being written), so afterwards first_index() is at
  // most up_to_index + 1 and every entry after up_to_index is still there.
  virtual Status compact(Index up_to_index) = 0;
};

// The segmented WAL's tunables.
struct WalOptions {
  // Each segment file is preallocated to this size; a segment holds the entries that fit.
  // Between 4 KiB and 1 GiB.
  uint64_t segment_bytes = 64ULL << 20;
};

struct OpenedLogStore {
  std::unique_ptr<LogStore> store;
  RecoveredLog recovered;
};

// Opens (creating if needed) the segmented WAL in `<data_dir>/wal/` and recovers it.
Result<OpenedLogStore> open_wal_log_store(const std::string& data_dir,
                                          const WalOptions& options = {});

#if DENGINE_WITH_ROCKSDB
// The RocksDB log store's tunables.
struct RocksDbLogOptions {
  // Size of one memtable. Each of the store's two column families has up to two, so its
  // memory is about four times this, plus an 8 MiB block cache. Between 64 KiB and 1 GiB.
  uint64_t write_buffer_bytes = 8ULL << 20;
};

// Opens (creating if needed) the log store kept in RocksDB in `<data_dir>/raftlog/`, for users
// who want one storage engine for everything, and recovers it. Entries are keyed by index in
// the column family "entries"; the hard state and where the log starts are in "meta"; every
// value carries its own CRC32C. RocksDB's own WAL is on: each append, compaction and reset is
// one atomic write batch, and sync() is one shared SyncWAL(). Recovery keeps the longest intact
// prefix of RocksDB's WAL and, unlike the segmented WAL, does not list a dropped torn tail in
// RecoveredLog::repairs (RocksDB notes it in its own LOG file). A record that fails its
// checksum, or a missing entry, is kCorruption naming the index and the directory. Only in
// builds with DENGINE_WITH_ROCKSDB (the CMake option).
Result<OpenedLogStore> open_rocksdb_log_store(const std::string& data_dir,
                                              const RocksDbLogOptions& options = {});
#endif

// An empty in-memory store starting at index 1 (tests and MemFirst mode). sync() is a no-op:
// nothing it holds survives the process.
std::unique_ptr<LogStore> make_memory_log_store();

}  // namespace dengine
