#include "runtime/wal_worker.h"

namespace dengine::runtime {

WalWorker::WalWorker(LogStore& log, CompactionRecord record, Report report)
    : log_(log), record_(std::move(record)), report_(std::move(report)) {}

WalWorker::~WalWorker() {
  stop();
}

void WalWorker::schedule_locked() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  thread_.post([this] { drain(); });
}

void WalWorker::submit(StorageWrite write) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(write));
  schedule_locked();
}

void WalWorker::compact(SnapshotMeta image, Index up_to) {
  std::lock_guard lock(mutex_);
  if (!pending_compaction_ || pending_compaction_->up_to < up_to) {
    pending_compaction_ = Compaction{std::move(image), up_to};
  }
  schedule_locked();
}

void WalWorker::stop() {
  thread_.stop();
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
  for (const StorageWrite& write : batch) {
    if (write.snapshot) {
      // The record first, as for a compaction: a restart then finds the log starting after
      // the image, and installs the received image before it boots (EmbeddedEngine::start).
      status = record_.save(*write.snapshot);
      if (status) status = log_.reset(write.snapshot->index, write.snapshot->term);
      if (!status) break;
    }
    status = log_.append(write.entries, write.hard_state);
    if (!status) break;
  }
  if (status && !batch.empty()) {
    status = log_.sync();
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!status) {
    // DESIGN §3: an fsync error is fatal for the node, never retried.
    failed_ = true;
    report_(FatalInput{Status(status.code(), "wal worker: " + status.message())});
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
      report_(
          FatalInput{Status(compacted.code(), "wal worker: compaction: " + compacted.message())});
    }
  }
}

}  // namespace dengine::runtime
