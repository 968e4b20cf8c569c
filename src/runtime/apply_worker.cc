#include "runtime/apply_worker.h"

#include <utility>

namespace dengine::runtime {

ApplyWorker::ApplyWorker(StateMachine& state_machine, std::shared_mutex& state_mutex,
                         Lessor& lessor, const Clock& clock, ApplyWorkerOptions options,
                         Report report)
    : state_machine_(state_machine),
      state_mutex_(state_mutex),
      lessor_(lessor),
      clock_(clock),
      options_(options),
      report_(std::move(report)),
      planner_(options.compaction, state_machine.durable_applied_index()),
      watch_hub_(state_machine,
                 [this](UniqueFunction<void()> work) { thread_.post(std::move(work)); }) {}

ApplyWorker::~ApplyWorker() {
  stop(Status::unavailable("engine stopped"));
}

void ApplyWorker::schedule_drain() {
  thread_.post([this] { drain(); });
}

void ApplyWorker::submit(ApplyBatch batch) {
  {
    std::lock_guard lock(mutex_);
    pending_batches_.push_back(std::move(batch));
    if (std::exchange(drain_scheduled_, true)) return;
  }
  schedule_drain();
}

void ApplyWorker::submit_reads(Index index, std::vector<ReadTask> tasks) {
  {
    std::lock_guard lock(mutex_);
    pending_reads_.emplace_back(index, std::move(tasks));
    if (std::exchange(drain_scheduled_, true)) return;
  }
  schedule_drain();
}

void ApplyWorker::stop(const Status& why) {
  if (!thread_.running()) return;
  thread_.stop();
  for (auto& [index, task] : waiting_reads_) task(why);
  waiting_reads_.clear();
  watch_hub_.stop(why);
}

void ApplyWorker::fail(Status why) {
  failure_ = why;
  report_(FatalInput{std::move(why)});
}

void ApplyWorker::drain() {
  std::vector<ApplyBatch> batches;
  std::vector<std::pair<Index, std::vector<ReadTask>>> reads;
  {
    std::lock_guard lock(mutex_);
    batches.swap(pending_batches_);
    reads.swap(pending_reads_);
    drain_scheduled_ = false;
  }
  for (auto& [index, tasks] : reads) {
    for (ReadTask& task : tasks) waiting_reads_.emplace(index, std::move(task));
  }
  Index applied = 0;
  for (ApplyBatch& batch : batches) {
    if (!apply(batch)) continue;  // failed: its callers and every later batch's were answered
    applied = batch.entries.empty() ? batch.image->meta.index : batch.entries.back().index;
  }
  if (!failure_.is_ok()) return;
  if (applied != 0) {
    // Compaction needs an image that survives a crash (docs/architecture.md §9): when enough was
    // applied since the last one, make the state machine's applies durable.
    if (options_.image_survives_restart && planner_.snapshot_due()) {
      std::unique_lock lock(state_mutex_);
      if (Status flushed = state_machine_.flush(); !flushed) {
        return fail(
            Status(flushed.code(), "apply worker: flush: " + flushed.message(), flushed.detail()));
      }
      planner_.on_snapshot(state_machine_.durable_applied_index());
    }
    const Index durable =
        options_.image_survives_restart ? state_machine_.durable_applied_index() : 0;
    report_(AppliedInput{applied, durable});
  }
  serve_reads();
}

bool ApplyWorker::apply(ApplyBatch& batch) {
  std::vector<std::pair<ProposalDone, Result<ApplyResult>>> answers;
  answers.reserve(batch.waiters.size());
  std::vector<Published> published;
  auto waiter = batch.waiters.begin();
  if (batch.image && failure_.is_ok() && !install(*batch.image)) return false;
  if (failure_.is_ok()) {
    std::unique_lock lock(state_mutex_);
    // One write for the whole batch where the store can: under load a batch carries many
    // entries, and the store's per-write bookkeeping would otherwise be paid for each.
    state_machine_.begin_group();
    for (const Entry& entry : batch.entries) {
      if (entry.type != EntryType::kNormal || entry.data.empty()) {
        state_machine_.record_applied(entry.index);
        planner_.on_applied(entry.index, 0);
        continue;
      }
      Result<ApplyResult> result = state_machine_.apply(entry.index, entry.data);
      if (!result) {
        // The entry is committed on a quorum: skipping it would diverge from the peers.
        fail(Status(result.status().code(),
                    "apply worker: entry " + std::to_string(entry.index) +
                        " cannot be applied: " + result.status().message(),
                    result.status().detail()));
        break;
      }
      planner_.on_applied(entry.index, entry.data.size());
      for (const LeaseId id : result->changed_leases) {
        lessor_.on_lease_changed(id, state_machine_.lease(id, /*with_keys=*/false),
                                 clock_.now_nanos());
      }
      // The events go to the watches; callers get the response.
      if (!result->events.empty()) {
        published.push_back(Published{result->revision, std::move(result->events)});
      }
      if (waiter != batch.waiters.end() && waiter->first == entry.index) {
        result->log_index = entry.index;
        answers.emplace_back(std::move(waiter->second), std::move(result));
        ++waiter;
      }
    }
    if (Status written = state_machine_.end_group(); !written && failure_.is_ok()) {
      const std::string which = batch.entries.empty()
                                    ? std::string("the state machine")
                                    : "entries " + std::to_string(batch.entries.front().index) +
                                          " to " + std::to_string(batch.entries.back().index);
      fail(Status(written.code(), "apply worker: writing " + which + ": " + written.message(),
                  written.detail()));
      // Nothing of the batch is stored: its callers learn that the engine stopped (the log
      // still holds the entries, and a restart applies them again).
      for (auto& answer : answers) {
        answer.second = Status::unavailable("engine stopped: " + failure_.message());
      }
      published.clear();
    }
    if (failure_.is_ok() && !batch.entries.empty() && batch.conf) {
      applied_point_ =
          AppliedPoint{batch.entries.back().index, batch.entries.back().term, batch.conf};
    }
  }
  // Outside the lock: a watch's or a caller's continuation may read the state machine at once.
  // Watches first, in the same handler as the applies: a catch-up (a separate handler) never
  // sees a revision that has not been published yet, so nothing is delivered twice.
  for (Published& revision : published) watch_hub_.publish(revision.revision, revision.events);
  for (auto& [done, result] : answers) done(std::move(result));
  if (failure_.is_ok()) return true;
  for (; waiter != batch.waiters.end(); ++waiter) {
    waiter->second(Status::unavailable("engine stopped: " + failure_.message()));
  }
  return false;
}

bool ApplyWorker::install(const ImageToInstall& image) {
  int64_t previous_revision = 0;
  {
    std::unique_lock lock(state_mutex_);
    previous_revision = state_machine_.current_revision();
    if (Status installed = state_machine_.install_snapshot(image.dir); !installed) {
      fail(Status(installed.code(),
                  "apply worker: installing the leader's image at index " +
                      std::to_string(image.meta.index) + ": " + installed.message(),
                  installed.detail()));
      return false;
    }
    if (state_machine_.applied_index() != image.meta.index) {
      // The log continues after meta.index: an image at another index would apply entries
      // twice or skip them.
      fail(Status::corruption("apply worker: the leader's image holds index " +
                              std::to_string(state_machine_.applied_index()) +
                              " but was announced at index " + std::to_string(image.meta.index)));
      return false;
    }
    planner_.on_snapshot(state_machine_.durable_applied_index());
    lessor_.replace_all(state_machine_.leases(), clock_.now_nanos());
    applied_point_ = AppliedPoint{image.meta.index, image.meta.term,
                                  std::make_shared<const ConfState>(image.meta.conf)};
  }
  watch_hub_.on_state_replaced(previous_revision);
  return true;
}

Result<SnapshotMeta> ApplyWorker::write_image(const std::string& dir) {
  std::unique_lock lock(state_mutex_);
  if (!failure_.is_ok()) return Status::unavailable("apply worker: stopped: " + failure_.message());
  if (!applied_point_ || applied_point_->index != state_machine_.applied_index()) {
    return Status::unavailable("apply worker: nothing applied since the start yet");
  }
  Result<Index> written = state_machine_.write_snapshot(dir);
  if (!written) return written.status();
  if (*written != applied_point_->index) {
    return Status::internal("apply worker: the image holds index " + std::to_string(*written) +
                            " but the state machine applied " +
                            std::to_string(applied_point_->index));
  }
  return SnapshotMeta{
      .index = applied_point_->index, .term = applied_point_->term, .conf = *applied_point_->conf};
}

void ApplyWorker::serve_reads() {
  const Index applied = state_machine_.applied_index();
  while (!waiting_reads_.empty() && waiting_reads_.begin()->first <= applied) {
    ReadTask task = std::move(waiting_reads_.begin()->second);
    waiting_reads_.erase(waiting_reads_.begin());
    task(&state_machine_);
  }
}

}  // namespace dengine::runtime
