#include "runtime/wal_worker.h"

#include <asio/post.hpp>

namespace dengine::runtime {

WalWorker::WalWorker(LogStore& log, CompactionRecord record, Report report)
    : log_(log), record_(std::move(record)), report_(std::move(report)) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

WalWorker::~WalWorker() { stop(); }

void WalWorker::submit(StorageWrite write) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(write));
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    asio::post(io_, [this] { drain(); });
  }
}

void WalWorker::compact(SnapshotMeta image, Index up_to) {
  std::lock_guard lock(mutex_);
  if (!pending_compaction_ || pending_compaction_->up_to < up_to) {
    pending_compaction_ = Compaction{std::move(image), up_to};
  }
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    asio::post(io_, [this] { drain(); });
  }
}

void WalWorker::stop() {
  if (!thread_.joinable()) return;
  work_.reset();  // run() returns once the scheduled drains are done
  thread_.join();
}

Status WalWorker::persist(const StorageWrite& write) {
  if (write.reset_to) {
    if (Status saved = record_.save(*write.reset_to); !saved) return saved;
    if (Status reset = log_.reset(write.reset_to->index, write.reset_to->term); !reset) {
      return reset;
    }
  }
  return log_.append(write.entries, write.hard_state);
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
    status = persist(write);
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
      report_(FatalInput{Status(compacted.code(), "wal worker: compaction: " + compacted.message())});
    }
  }
}

}  // namespace dengine::runtime
