#include "runtime/wal_worker.h"

#include <utility>

namespace dengine::runtime {

WalWorker::WalWorker(LogStore& log, CompactionRecord record, Report report)
    : log_(log), record_(std::move(record)), report_(std::move(report)) {}

WalWorker::~WalWorker() {
  stop();
}

// The drain is posted once the lock is released: its first act is to take the lock, and a
// worker woken while the submitter still held it went back to sleep at once. On a 2-vCPU VM
// that second wake-up cost a sequential put ~20 µs.
void WalWorker::submit(StorageWrite write) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(write));
    if (std::exchange(drain_scheduled_, true)) return;
  }
  thread_.post([this] { drain(); });
}

void WalWorker::compact(SnapshotMeta image, Index up_to) {
  {
    std::lock_guard lock(mutex_);
    if (!pending_compaction_ || pending_compaction_->up_to < up_to) {
      pending_compaction_ = Compaction{std::move(image), up_to};
    }
    if (std::exchange(drain_scheduled_, true)) return;
  }
  thread_.post([this] { drain(); });
}

void WalWorker::stop() {
  thread_.stop();
}

bool WalWorker::same_term_and_vote(const HardState& hard_state) const {
  return last_hard_state_ && last_hard_state_->term == hard_state.term &&
         last_hard_state_->vote == hard_state.vote;
}

// Everything queued since the last drain becomes one batch: its appends, then one fdatasync
// for all of them (group commit), then one report naming the last write.
void WalWorker::drain() {
  std::vector<StorageWrite> batch;
  std::optional<Compaction> compaction;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    compaction.swap(pending_compaction_);
    drain_scheduled_ = false;
  }
  if (failed_) return;
  Status status;
  bool must_sync = false;
  for (const StorageWrite& write : batch) {
    must_sync = must_sync || write.snapshot || !write.entries.empty() ||
                (write.hard_state && !same_term_and_vote(*write.hard_state));
    if (write.snapshot) {
      // The record first, as for a compaction: a restart then finds the log starting after
      // the image, and installs the received image before it boots (EmbeddedEngine::start).
      status = record_.save(*write.snapshot);
      if (status) status = log_.reset(write.snapshot->index, write.snapshot->term);
      if (!status) break;
    }
    status = log_.append(write.entries, write.hard_state);
    if (!status) break;
    if (write.hard_state) last_hard_state_ = write.hard_state;
  }
  // A batch that only moves the commit index needs no fdatasync (etcd-raft's MustSync): Raft's
  // safety rests on durable terms, votes and entries, and a commit index lost in a crash is
  // learned again. The next sync covers it; a sequential writer no longer pays two syncs a put.
  if (status && must_sync) {
    status = log_.sync();
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!status) {
    // docs/architecture.md §3: an fsync error is fatal for the node, never retried.
    failed_ = true;
    report_(FatalInput{Status(status.code(), "wal worker: " + status.message(), status.detail())});
    return;
  }
  if (!batch.empty()) {
    writes_.fetch_add(batch.size(), std::memory_order_relaxed);
    report_(PersistedInput{batch.back().write_id});
  }
  if (compaction) {
    // The record first: a crash between the two leaves a record at or behind the log's start,
    // which a restart handles; the other order could leave a log with no known configuration.
    Status compacted = record_.save(compaction->image);
    if (compacted) compacted = log_.compact(compaction->up_to);
    if (!compacted) {
      failed_ = true;
      report_(FatalInput{Status(compacted.code(), "wal worker: compaction: " + compacted.message(),
                                compacted.detail())});
    }
  }
}

}  // namespace dengine::runtime
