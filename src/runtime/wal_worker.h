#pragma once

// The WAL worker (docs/architecture.md §2): persists the Ready batches' entries and hard states in
// write_id order and reports "durable up to write w" to the core. Group commit: every write that
// arrives while an fdatasync runs is appended behind it and covered by the next single fdatasync,
// so the number of syncs falls as load rises. One Asio thread; the core never waits for it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "dengine/entry.h"
#include "dengine/log_store.h"
#include "runtime/compaction_record.h"
#include "runtime/core_input.h"
#include "runtime/worker_thread.h"

namespace dengine::runtime {

struct StorageWrite {
  uint64_t write_id = 0;
  // A leader's image replaces the log (Ready contract step 0): its metadata is recorded and
  // every stored entry discarded before `entries` are appended.
  std::optional<SnapshotMeta> snapshot;
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
};

class WalWorker {
 public:
  using Report = std::function<void(CoreInput)>;

  WalWorker(LogStore& log, CompactionRecord record, Report report);
  ~WalWorker();
  WalWorker(const WalWorker&) = delete;
  WalWorker& operator=(const WalWorker&) = delete;

  void submit(StorageWrite write);
  // Once every earlier write is done: records `image` (the durable state machine image the
  // log is compacted behind), then lets the log drop entries up to `up_to` (at most
  // image.index).
  void compact(SnapshotMeta image, Index up_to);
  // Finishes every submitted write and stops the thread. Idempotent.
  void stop();

  // Group-commit figures, for benchmarks: writes persisted and fdatasyncs issued.
  [[nodiscard]] uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }

 private:
  void drain();
  [[nodiscard]] bool same_term_and_vote(const HardState& hard_state) const;

  LogStore& log_;
  CompactionRecord record_;
  Report report_;

  std::mutex mutex_;
  std::vector<StorageWrite> pending_;
  struct Compaction {
    SnapshotMeta image;
    Index up_to = 0;
  };
  std::optional<Compaction> pending_compaction_;
  bool drain_scheduled_ = false;
  bool failed_ = false;  // worker thread only: a fatal error was reported, nothing more is done
  // Worker thread only: the last hard state written (its term and vote are durable: writing
  // one that changes them is always synced). None yet: the first is synced.
  std::optional<HardState> last_hard_state_;

  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> syncs_{0};
  WorkerThread thread_{
      "dengine-wal"};  // last: it starts after, and stops before, everything it uses
};

}  // namespace dengine::runtime
