// The core loop (RaftRuntime): admission of callers' requests, the loop over the inbound queue,
// Ready handling and the published status. Stopping is in raft_runtime_stop.cc, leases in
// raft_runtime_leases.cc, leader routing in raft_runtime_routing.cc, the images'
// configurations in ImageLedger.

#include "runtime/raft_runtime.h"

namespace dengine::runtime {
namespace {

// Ticks owed after a long pause are capped: a burst of them would only start elections that
// a resumed node has no reason to start.
constexpr int kMaxTicksPerRound = 64;

}  // namespace

Result<std::unique_ptr<RaftRuntime>> RaftRuntime::start(
    raft::RaftConfig config, raft::RaftBootState boot, LogStore& log, StateMachine& state_machine,
    std::unique_ptr<Transport> transport, std::shared_ptr<Clock> clock,
    CompactionRecord compaction_record, RuntimeOptions options) {
  if (options.tick_interval.count() <= 0) {
    return Status::invalid_argument("runtime: tick_interval must be positive");
  }
  if (options.max_in_flight_requests == 0 || options.max_inputs_per_round == 0) {
    return Status::invalid_argument(
        "runtime: max_in_flight_requests and max_inputs_per_round must be positive");
  }
  const bool keeps_lease_time = config.lease_duration_nanos > 0;
  Result<std::unique_ptr<raft::RaftNode>> raft =
      raft::RaftNode::create(std::move(config), std::move(boot));
  if (!raft) return raft.status();
  return std::unique_ptr<RaftRuntime>(
      new RaftRuntime(std::move(*raft), keeps_lease_time, log, state_machine, std::move(transport),
                      std::move(clock), std::move(compaction_record), options));
}

RaftRuntime::RaftRuntime(std::unique_ptr<raft::RaftNode> raft, bool keeps_lease_time, LogStore& log,
                         StateMachine& state_machine, std::unique_ptr<Transport> transport,
                         std::shared_ptr<Clock> clock, CompactionRecord compaction_record,
                         RuntimeOptions options)
    : raft_(std::move(raft)),
      images_(*raft_),
      keeps_lease_time_(keeps_lease_time),
      lessor_(options.lessor),
      state_machine_(state_machine),
      transport_(std::move(transport)),
      snapshot_inbox_(options.snapshot_dir),
      clock_(std::move(clock)),
      options_(options),
      admission_(options.max_in_flight_requests),
      router_(options.router) {
  id_ = raft_->id();
  status_.id = id_;
  start_lease_keeping();
  auto report = [this](CoreInput input) { queue_.push(std::move(input)); };
  wal_worker_ = std::make_unique<WalWorker>(log, std::move(compaction_record), report);
  apply_worker_ = std::make_unique<ApplyWorker>(state_machine_, state_mutex_, lessor_, *clock_,
                                                options_.apply, report);
  if (!options_.snapshot_dir.empty()) {
    snapshot_shipper_ = std::make_unique<SnapshotShipper>(
        options_.snapshot_dir, *transport_,
        [this](const std::string& dir) { return apply_worker_->write_image(dir); },
        [this](NodeId to, const Status& /*why*/) {
          // The core probes the follower again, which asks for another image if it must.
          report_to_core([to](Result<raft::RaftNode*> core) {
            if (core) (*core)->report_snapshot_failed(to);
          });
        });
  }
  next_tick_nanos_ = clock_->now_nanos() + static_cast<uint64_t>(options_.tick_interval.count());
  clock_listener_ = clock_->add_listener([this] { queue_.push(WakeInput{}); });
  core_thread_ = std::thread([this] {
    name_this_thread("dengine-core");
    run();
  });
}

RaftRuntime::~RaftRuntime() {
  stop();
}

// ---- callers ----

Status RaftRuntime::admit() {
  if (Status admitted = admission_.try_admit(); !admitted) return admitted;
  if (stopped_.load(std::memory_order_acquire)) {
    admission_.release();
    return refusal_after_stop();
  }
  return Status::ok();
}

void RaftRuntime::propose(std::string command, ProposalDone done, int hops) {
  if (Status admitted = admit(); !admitted) return done(std::move(admitted));
  queue_.push(ProposeInput{std::move(command), releasing(std::move(done)), hops});
}

void RaftRuntime::read(ReadMode mode, ReadTask task, Index at) {
  if (Status admitted = admit(); !admitted) return task(std::move(admitted));
  queue_.push(
      ReadInput{mode, PendingRead{.task = releasing(std::move(task)), .confirmed = {}}, at});
}

void RaftRuntime::confirm_read(ReadMode mode, UniqueFunction<void(Result<Index>)> confirmed) {
  if (Status admitted = admit(); !admitted) return confirmed(std::move(admitted));
  queue_.push(
      ReadInput{mode, PendingRead{.task = {}, .confirmed = releasing(std::move(confirmed))}, 0});
}

void RaftRuntime::run_on_core(CoreTask task) {
  if (Status admitted = admit(); !admitted) return task(std::move(admitted));
  queue_.push(CoreTaskInput{releasing(std::move(task))});
}

void RaftRuntime::report_to_core(CoreTask task) {
  if (stopped_.load(std::memory_order_acquire)) return;
  queue_.push(CoreTaskInput{std::move(task)});
}

void RaftRuntime::deliver(Message message) {
  if (stopped_.load(std::memory_order_acquire)) return;
  queue_.push(PeerMessageInput{std::move(message)});
}

Status RaftRuntime::accept_snapshot_chunk(std::string_view chunk) {
  if (stopped_.load(std::memory_order_acquire)) return refusal_after_stop();
  if (options_.snapshot_dir.empty()) {
    return Status::failed_precondition("runtime: node " + std::to_string(id_) +
                                       " takes no snapshots");
  }
  return snapshot_inbox_.accept(chunk);
}

NodeStatus RaftRuntime::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

// ---- the core loop ----

void RaftRuntime::run() {
  // A lone voter need not wait out an election timeout; campaign() refuses otherwise.
  (void)raft_->campaign();
  process_ready();
  publish_status();
  std::vector<CoreInput> inputs(options_.max_inputs_per_round);
  std::vector<PendingRead> read_index_batch;
  while (running_) {
    const size_t count = queue_.pop_bulk(inputs, clock_->real_time_until(next_tick_nanos_));
    for (size_t i = 0; i < count && running_; ++i) handle(inputs[i], read_index_batch);
    for (size_t i = 0; i < count; ++i) inputs[i] = WakeInput{};  // free what was moved from
    if (!running_) break;
    // docs/architecture.md §2: reads that arrive together share one ReadIndex round.
    if (!read_index_batch.empty()) start_read_index_round(std::move(read_index_batch));
    read_index_batch.clear();
    advance_clock();
    keep_lease_time();
    process_ready();
    publish_status();
    publish_round_clock();
  }
  for (PendingRead& read : read_index_batch) read.fail(fatal_.is_ok() ? engine_stopped() : fatal_);
  shut_down();
}

void RaftRuntime::handle(CoreInput& input, std::vector<PendingRead>& read_index_batch) {
  std::visit(
      [&](auto& in) {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, ProposeInput>) {
          handle_proposal(in);
        } else if constexpr (std::is_same_v<T, ReadInput>) {
          handle_read(in, read_index_batch);
        } else if constexpr (std::is_same_v<T, PeerMessageInput>) {
          // An image that is not here whole cannot be installed: the leader sends it again.
          if (in.message.type == MessageType::kSnapshot &&
              !snapshot_inbox_.holds(in.message.snapshot)) {
            return;
          }
          raft_->step(in.message);
        } else if constexpr (std::is_same_v<T, PersistedInput>) {
          wal_submitter_.on_persisted(in.write_id);
          submit_installs(in.write_id);
          raft_->on_persisted(in.write_id);
        } else if constexpr (std::is_same_v<T, AppliedInput>) {
          handle_applied(in);
        } else if constexpr (std::is_same_v<T, FatalInput>) {
          fatal_ = in.status;
          running_ = false;
        } else if constexpr (std::is_same_v<T, CoreTaskInput>) {
          in.task(raft_.get());
        } else if constexpr (std::is_same_v<T, StopInput>) {
          running_ = false;
        }
      },
      input);
}

void RaftRuntime::handle_proposal(ProposeInput& input) {
  // Writes sent to a follower go to the leader; nothing is appended here.
  if (forward_proposal(input)) return;
  const Term term = raft_->term();
  Result<Index> index = raft_->propose(std::move(input.command));
  if (!index) return input.done(index.status());
  proposals_.emplace(*index, PendingProposal{term, std::move(input.done)});
}

void RaftRuntime::handle_read(ReadInput& input, std::vector<PendingRead>& read_index_batch) {
  if (input.mode == ReadMode::kConfirmed) return serve_read_at(input.at, std::move(input.read));
  if (input.mode == ReadMode::kLease) {
    // docs/architecture.md §9: the lease is checked against the monotonic clock when the read is
    // served.
    Result<Index> index = raft_->lease_read(clock_->now_nanos());
    if (index) return serve_read_at(*index, std::move(input.read));
    // No valid lease here (a follower, or a lapsed lease): a ReadIndex round is as good.
  }
  read_index_batch.push_back(std::move(input.read));
}

void RaftRuntime::start_read_index_round(std::vector<PendingRead> reads) {
  const uint64_t round = next_read_round_++;
  if (Status started = raft_->read_index(round); !started) {
    for (PendingRead& read : reads) read.fail(started);
    return;
  }
  read_rounds_.emplace(round, std::move(reads));
}

void RaftRuntime::serve_read_at(Index index, PendingRead read) {
  std::vector<PendingRead> reads;
  reads.push_back(std::move(read));
  serve_reads_at(index, std::move(reads));
}

void RaftRuntime::serve_reads_at(Index index, std::vector<PendingRead> reads) {
  std::vector<ReadTask> tasks;
  for (PendingRead& read : reads) {
    if (read.confirmed) {
      read.confirmed(index);
    } else {
      tasks.push_back(std::move(read.task));
    }
  }
  if (!tasks.empty()) apply_worker_->submit_reads(index, std::move(tasks));
}

void RaftRuntime::handle_applied(const AppliedInput& input) {
  raft_->on_applied(input.index);
  std::optional<SnapshotMeta> image = images_.take_newer_image(input.durable_index, raft_->log());
  if (image) raft_->on_snapshot_ready(*image);
}

void RaftRuntime::advance_clock() {
  const uint64_t now = clock_->now_nanos();
  raft_->observe_clock(now);
  const auto tick = static_cast<uint64_t>(options_.tick_interval.count());
  for (int ticks = 0; now >= next_tick_nanos_; ++ticks) {
    if (ticks == kMaxTicksPerRound) {
      next_tick_nanos_ = now + tick;
      break;
    }
    raft_->tick();
    next_tick_nanos_ += tick;
  }
}

bool RaftRuntime::wait_for_round_at(uint64_t nanos, std::chrono::nanoseconds timeout) const {
  round_waiters_.fetch_add(1);
  std::unique_lock lock(status_mutex_);
  const bool reached = status_changed_.wait_for(
      lock, timeout, [&] { return round_clock_.load() >= nanos || status_.stopped; });
  lock.unlock();
  round_waiters_.fetch_sub(1);
  return reached;
}

bool RaftRuntime::applied_current_term() const {
  return raft_->log().term_at(raft_->log().applied()) == raft_->term();
}

// Hands each Ready to the workers: the lists of steps 1 to 3 go their own ways (raft/ready.h).
void RaftRuntime::process_ready() {
  while (running_ && raft_->has_ready()) {
    Ready ready = raft_->take_ready();
    if (ready.snapshot) {
      begin_install(ready.write_id, *ready.snapshot);
      if (!running_) return;
    }
    const bool persisted_here = ready.has_storage_work() && !submit_storage(ready);
    if (!ready.messages.empty()) send(std::move(ready.messages));
    if (!ready.committed_entries.empty()) {
      images_.record_batch(ready.committed_entries, *raft_);
      apply_worker_->submit(make_apply_batch(std::move(ready.committed_entries)));
    }
    if (persisted_here) raft_->on_persisted(ready.write_id);
    for (const ReadState& read : ready.read_states) {
      auto round = read_rounds_.find(read.request_id);
      if (round == read_rounds_.end()) continue;
      serve_reads_at(read.index, std::move(round->second));
      read_rounds_.erase(round);
    }
    for (uint64_t aborted : ready.aborted_reads) {
      auto round = read_rounds_.find(aborted);
      if (round == read_rounds_.end()) continue;
      for (PendingRead& read : round->second) {
        read.fail(
            Status::unavailable("read could not be confirmed: no leader, or leadership "
                                "changed; retry"));
      }
      read_rounds_.erase(round);
    }
    if (ready.compact_to != 0) wal_worker_->compact(images_.latest_image(), ready.compact_to);
  }
}

// Ready step 1: the WAL submitter decides whether the write needs the disk (wal_submitter.h).
bool RaftRuntime::submit_storage(Ready& ready) {
  std::optional<StorageWrite> write = wal_submitter_.take(ready);
  if (!write) return false;
  wal_worker_->submit(std::move(*write));
  return true;
}

void RaftRuntime::begin_install(uint64_t write_id, const SnapshotMeta& snapshot) {
  std::optional<ImageToInstall> image = snapshot_inbox_.take(snapshot);
  if (!image) {
    // The core steps a kSnapshot message only when its image is here (handle()).
    fatal_ = Status::internal("runtime: no received image for the snapshot at index " +
                              std::to_string(snapshot.index));
    running_ = false;
    return;
  }
  // Proposals made here while leading, at indexes the image covers: they may be in it.
  for (auto it = proposals_.begin(); it != proposals_.end() && it->first <= snapshot.index;) {
    it->second.done(
        Status::unavailable("this node installed a leader's image over the proposal at index " +
                            std::to_string(it->first) + "; it may have been committed"));
    it = proposals_.erase(it);
  }
  images_.restart_at(snapshot);
  pending_installs_.push_back(PendingInstall{write_id, std::move(*image)});
}

void RaftRuntime::submit_installs(uint64_t durable_write_id) {
  // Before the core hears of the write: the entries after the image, handed out once it is
  // durable, reach the apply worker behind the image.
  while (!pending_installs_.empty() && pending_installs_.front().write_id <= durable_write_id) {
    ApplyBatch batch;
    batch.image = std::move(pending_installs_.front().image);
    batch.conf = images_.shared_conf();
    apply_worker_->submit(std::move(batch));
    pending_installs_.pop_front();
  }
}

void RaftRuntime::send(std::vector<Message> messages) {
  std::vector<Message> rest;
  rest.reserve(messages.size());
  for (Message& message : messages) {
    if (message.type != MessageType::kSnapshot) {
      rest.push_back(std::move(message));
    } else if (snapshot_shipper_) {
      snapshot_shipper_->ship(std::move(message));
    } else {
      raft_->report_snapshot_failed(message.to);
    }
  }
  if (!rest.empty()) transport_->send(std::move(rest));
}

// Matches the callers waiting on these entries. A proposal's entry may have been replaced by
// a later leader's entry at the same index (Raft §5.3): then it was never applied.
ApplyBatch RaftRuntime::make_apply_batch(std::vector<Entry> entries) {
  ApplyBatch batch;
  const Index first = entries.front().index;
  const Index last = entries.back().index;
  auto it = proposals_.begin();
  while (it != proposals_.end() && it->first <= last) {
    const Index index = it->first;
    const Entry* entry = index >= first ? &entries[index - first] : nullptr;
    if (entry != nullptr && entry->term == it->second.term && entry->type == EntryType::kNormal) {
      batch.waiters.emplace_back(index, std::move(it->second.done));
    } else {
      it->second.done(Status::aborted("proposal at index " + std::to_string(index) +
                                      " was replaced by a new leader's entry; it was not "
                                      "applied"));
    }
    it = proposals_.erase(it);
  }
  batch.entries = std::move(entries);
  batch.conf = images_.shared_conf();
  return batch;
}

// Runs every round of the loop: compares in place and copies the configuration only when it
// changed.
void RaftRuntime::publish_status() {
  const NodeId leader = raft_->leader();
  const RaftRole role = raft_->role();
  const Term term = raft_->term();
  const Index commit = raft_->log().committed();
  const Index applied = raft_->log().applied();
  // Ready means this node serves: it applied an entry of the current leader's term, and a
  // leader also keeps lease time (when lease reads are on; without them leases never expire).
  const bool ready =
      leader != kNoNode && applied_current_term() &&
      (role != RaftRole::kLeader || !keeps_lease_time_ || lease_primary_term_ == term);
  std::lock_guard lock(status_mutex_);
  if (leader == status_.leader && role == status_.role && term == status_.term &&
      commit == status_.commit && applied == status_.applied && ready == status_.ready &&
      images_.conf() == status_.conf) {
    return;
  }
  status_.id = raft_->id();
  status_.leader = leader;
  status_.role = role;
  status_.term = term;
  status_.commit = commit;
  status_.applied = applied;
  status_.ready = ready;
  if (status_.conf != images_.conf()) status_.conf = images_.conf();
  status_changed_.notify_all();
}

void RaftRuntime::publish_round_clock() {
  round_clock_.store(clock_->now_nanos());
  if (round_waiters_.load() == 0) return;
  std::lock_guard lock(status_mutex_);
  status_changed_.notify_all();
}

}  // namespace dengine::runtime
