#pragma once

// The apply worker (docs/architecture.md §2): applies committed entries to the state machine in
// index order, answers the callers whose proposals they were, serves linearizable reads once the
// state machine has caught up with their read index, and reports "applied up to i" (and what the
// state machine made durable) to the core. One Asio thread.
//
// Readers that need no log round (eventual reads) read the state machine on their own threads
// under `state_mutex` held shared; this worker holds it exclusively while it applies.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "dengine/clock.h"
#include "dengine/entry.h"
#include "dengine/state_machine.h"
#include "log/compaction_policy.h"
#include "runtime/core_input.h"
#include "runtime/lessor.h"
#include "runtime/watch_hub.h"
#include "runtime/worker_thread.h"

namespace dengine::runtime {

// A leader's image, received whole, to replace the state machine (Ready contract step 0).
struct ImageToInstall {
  SnapshotMeta meta;
  std::string dir;  // taken over by the state machine
};

struct ApplyBatch {
  // Installed before `entries`, which then continue after its index.
  std::optional<ImageToInstall> image;
  std::vector<Entry> entries;  // committed, contiguous, ascending
  // The configuration in force after these entries (it describes an image written then).
  std::shared_ptr<const ConfState> conf;
  // Callers waiting for some of these entries, by index, ascending.
  std::vector<std::pair<Index, ProposalDone>> waiters;
};

struct ApplyWorkerOptions {
  log::CompactionPolicy compaction;
  // False when the state machine keeps nothing across a restart (the in-memory store beside a
  // durable log): nothing counts as durable then, so the log is never compacted and a restart
  // replays it whole.
  bool image_survives_restart = true;
};

class ApplyWorker {
 public:
  using Report = std::function<void(CoreInput)>;

  // Lease changes are mirrored into `lessor` (time from `clock`) as entries are applied.
  ApplyWorker(StateMachine& state_machine, std::shared_mutex& state_mutex, Lessor& lessor,
              const Clock& clock, ApplyWorkerOptions options, Report report);
  ~ApplyWorker();
  ApplyWorker(const ApplyWorker&) = delete;
  ApplyWorker& operator=(const ApplyWorker&) = delete;

  void submit(ApplyBatch batch);
  // Serves each task once the state machine has applied `index`.
  void submit_reads(Index index, std::vector<ReadTask> tasks);
  // Applies what was submitted, fails the reads still waiting with `why`, ends every watch with
  // it, and stops the thread. Idempotent.
  void stop(const Status& why);

  // The watches of this node's state machine (any thread).
  WatchHub& watch_hub() { return watch_hub_; }

  // Any thread: writes an image of the state machine as applied now into `dir` (which must not
  // exist yet) and describes it, for a follower to install. Applies wait meanwhile.
  // kUnavailable before the first batch since the start (the image's term is not known yet).
  Result<SnapshotMeta> write_image(const std::string& dir);

 private:
  // Posts the drain; called once the lock is released (see WalWorker::submit).
  void schedule_drain();
  void drain();
  // False when the node must stop (reported to the core).
  bool apply(ApplyBatch& batch);
  // Replaces the state machine with a leader's image; false when the node must stop.
  bool install(const ImageToInstall& image);
  void serve_reads();
  // Stops applying for good: the core is told why, and so is every later caller.
  void fail(Status why);

  // One applied revision's changes, handed to the watch hub once the lock is released.
  struct Published {
    int64_t revision;
    std::vector<Event> events;
  };

  StateMachine& state_machine_;
  std::shared_mutex& state_mutex_;
  Lessor& lessor_;
  const Clock& clock_;
  ApplyWorkerOptions options_;
  Report report_;
  log::CompactionPlanner planner_;

  std::mutex mutex_;
  std::vector<ApplyBatch> pending_batches_;
  std::vector<std::pair<Index, std::vector<ReadTask>>> pending_reads_;
  bool drain_scheduled_ = false;

  // Where the state machine stands, as an image of it would be described (the configuration
  // shared with the batch, not copied on every apply); under state_mutex_.
  struct AppliedPoint {
    Index index = 0;
    Term term = 0;
    std::shared_ptr<const ConfState> conf;
  };
  std::optional<AppliedPoint> applied_point_;

  // Worker thread only.
  std::multimap<Index, ReadTask> waiting_reads_;
  // Set once applying failed (under state_mutex_: write_image reads it); nothing is applied
  // after it.
  Status failure_;
  WatchHub watch_hub_;

  WorkerThread thread_{
      "dengine-apply"};  // last: it starts after, and stops before, everything it uses
};

}  // namespace dengine::runtime
