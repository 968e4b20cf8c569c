#pragma once

// The segmented WAL: dengine's default LogStore (docs/architecture.md §3).
//
// Layout: `<data-dir>/wal/<first index, 16 hex>.wal`, each preallocated to
// WalOptions::segment_bytes; see segment.h for the header and record.h for the records.
// A segment starts with its header and the current hard state, then holds entry, truncate and
// hard-state records in the order they were appended; a full segment ends with a seal record.
//
// Why these choices:
//  * Append-only, never overwriting synced bytes: a power cut can only damage what was not
//    yet synced, so a damaged record before the tail is provably corruption.
//  * Hard state as records in the same stream, latest wins: entries and the hard state of one
//    append are made durable by one fdatasync, and recovery of a prefix of the stream can
//    never keep an append's hard state without its entries (the Ready order).
//  * Every new segment repeats the current hard state, so compaction can delete old segments
//    without losing it.
//  * A conflicting suffix is discarded logically, by a truncate record, when it starts inside
//    the segment being written (no rewrite of synced data, no stale bytes that could be
//    mistaken for records). When it starts before that segment, a new segment named by the
//    truncation index is created (its name implies the truncation) and the superseded segments
//    are deleted afterwards; recovery skips them if a crash came first.
//  * Write-behind: an append encodes its records into a buffer, and the next sync writes the
//    buffer with one pwrite into preallocated space just before its fdatasync (reads of
//    buffered entries are served from it). Nothing is promised before a sync, and a pwrite per
//    append cost more CPU than encoding the record.
//  * Group commit without threads of its own: sync() elects the first caller as leader, which
//    writes the buffer and runs fdatasync without the lock while later callers queue, each with
//    its own wake-up, in arrival order. When the fdatasync returns, the leader wakes only the
//    waiters it covered and hands the lead to the oldest waiter it did not cover, which syncs
//    everything appended by then. So
//    any number of appenders waiting when a sync starts share the next fdatasync, and a sync
//    does not wake every waiter just to put most of them back to sleep (on a small machine
//    those wake-ups, not the disk, limited throughput).
//  * sync_async() waits on a flusher thread, started on first use: it takes every callback
//    queued since its last sync, runs one sync() for all of them (taking its turn with blocking
//    callers) and calls them in order. An appender in flight then costs a callback, not a
//    sleeping thread: on a small machine each wake-up of a thread costs more CPU than the
//    record it waited for.
//  * Installing a snapshot (reset) starts a new segment flagged as resetting the log: it
//    supersedes every older segment, which is then deleted.
//  * Any write or sync error is fatal: the WAL stops and reports the first error forever.
//  * A full segment is sealed and synced before the next one is created (tmp file, header,
//    fdatasync, rename, directory fsync), so a record is never acknowledged in a segment whose
//    directory entry could vanish, and every segment but the last is complete.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dengine/log_store.h"
#include "log/file_system.h"
#include "log/segment.h"

namespace dengine::log {

struct WalStats {
  uint64_t appends = 0;
  uint64_t sync_calls = 0;   // sync() calls, the flusher's included
  uint64_t async_syncs = 0;  // sync_async() calls
  uint64_t fdatasyncs = 0;   // fdatasyncs those calls ran (fewer when they were shared)
  uint64_t segments_created = 0;
  uint64_t bytes_written = 0;
};

class SegmentedWal final : public LogStore {
 public:
  struct Opened {
    std::unique_ptr<SegmentedWal> wal;
    RecoveredLog recovered;
  };
  static Result<Opened> open(std::shared_ptr<FileSystem> fs, const std::string& data_dir,
                             const WalOptions& options);
  ~SegmentedWal() override;

  Status append(std::span<const Entry> entries,
                const std::optional<HardState>& hard_state) override;
  Status sync() override;
  void sync_async(SyncDone done) override;
  Result<std::vector<Entry>> entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> term(Index index) const override;
  Index first_index() const override;
  Index last_index() const override;
  HardState hard_state() const override;
  Status compact(Index up_to_index) override;
  Status reset(Index snapshot_index, Term snapshot_term) override;

  [[nodiscard]] WalStats stats() const;
  // Where the next record goes (tests check that nothing follows it).
  struct Position {
    std::string file_name;
    uint64_t offset = 0;
  };
  [[nodiscard]] Position tail() const;
  [[nodiscard]] const std::string& wal_dir() const { return wal_dir_; }

 private:
  struct Segment {
    std::string file_name;
    SegmentHeader header;
    std::unique_ptr<File> file;
    uint64_t capacity = 0;       // preallocated bytes
    uint64_t write_offset = 0;   // end of the records
    uint64_t synced_offset = 0;  // durable up to here
    bool sealed = false;
    uint64_t surviving_entries = 0;  // of this segment's entries, those still in the log
  };
  // A sync() caller waiting for a running sync; the leader that covers it (or the first
  // error) completes it. Shared, so the leader may signal it after the caller has returned.
  struct SyncWaiter {
    explicit SyncWaiter(uint64_t target) : target_bytes(target) {}
    void complete(bool lead_next, const Status& status);
    // True when this caller is to lead the next sync; else the sync's outcome is in result.
    bool wait();

    const uint64_t target_bytes;  // written_bytes_ when sync() was called
    std::mutex mu;
    std::condition_variable cv;
    bool completed = false;  // guarded by mu, as are the two below
    bool lead = false;
    Status result;
  };
  struct Location {
    Term term = 0;
    Segment* segment = nullptr;
    uint32_t offset = 0;      // of the entry's record
    uint32_t data_bytes = 0;  // of the entry's data
  };

  SegmentedWal(std::shared_ptr<FileSystem> fs, std::string wal_dir, const WalOptions& options);

  // All with mu_ held.
  Status validate_append(std::span<const Entry> entries,
                         const std::optional<HardState>& hard_state) const;
  Status append_locked(std::span<const Entry> entries, const std::optional<HardState>& hard_state);
  Status ensure_room(size_t framed_bytes);
  Status flush();
  Status roll(Index first_index);
  Status start_segment(Index first_index, Term prev_term, uint32_t flags);
  Status seal_active();
  Result<std::shared_ptr<Segment>> create_segment(Index first_index, Term prev_term,
                                                  uint32_t flags);
  Status remove_dead_segments();
  void truncate_after(Index index);
  Status fail(const Status& cause);
  // The flusher thread's loop: until stopping_ and nothing is queued in async_waiting_.
  void run_flusher();
  // Leads one sync (sync_in_progress_ is the caller's), then hands over; releases the lock.
  Status lead_sync(std::unique_lock<std::mutex>& lock, uint64_t target_bytes);
  // Removes from sync_waiters_ those covered by synced_bytes_ (all of them once failed).
  std::vector<std::shared_ptr<SyncWaiter>> take_finished_waiters();
  // Wakes waiters taken from sync_waiters_ with the outcome of the sync that covered them.
  // With or without the lock (a waiter never takes mu_ while it waits).
  static void complete_waiters(const std::vector<std::shared_ptr<SyncWaiter>>& waiters,
                               const Status& result);
  [[nodiscard]] Index last_index_locked() const { return first_index_ + locations_.size() - 1; }
  [[nodiscard]] Term term_locked(Index index) const;
  [[nodiscard]] Segment& active() const { return *segments_.back(); }
  [[nodiscard]] uint32_t record_synced_offset() const;
  // Bytes [begin, end) of `segment`; those not yet written come from pending_.
  [[nodiscard]] Result<std::string> read_locked(const Segment& segment, uint64_t begin,
                                                uint64_t end) const;

  const std::shared_ptr<FileSystem> fs_;
  const std::string wal_dir_;
  const WalOptions options_;

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<Segment>> segments_;  // seq order; back() is written to
  uint64_t next_seq_ = 1;
  std::deque<Location> locations_;  // locations_[i] is entry first_index_ + i
  Index first_index_ = 1;
  Term prev_term_ = 0;
  HardState hard_state_;
  std::string pending_;  // records encoded for the active segment, not yet written (write-behind)

  // Group commit: bytes ever written and bytes known durable, across segments.
  uint64_t written_bytes_ = 0;
  uint64_t synced_bytes_ = 0;
  // True from a leader's election until it hands over to no one; while true, sync() callers
  // queue here (at most one per thread), oldest first, so their targets never decrease.
  bool sync_in_progress_ = false;
  std::deque<std::shared_ptr<SyncWaiter>> sync_waiters_;

  // sync_async() callbacks not yet taken by the flusher, oldest first.
  std::vector<SyncDone> async_waiting_;
  std::condition_variable flusher_wakeup_;
  bool stopping_ = false;
  std::thread flusher_;  // started by the first sync_async() that has to wait

  Status failed_;  // set once, by the first write or sync error
  WalStats stats_;
};

}  // namespace dengine::log
