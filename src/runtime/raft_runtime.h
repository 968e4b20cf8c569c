#pragma once

// The core thread (docs/architecture.md §2): owns the pure Raft core and drives it. Its loop drains
// the inbound queue, steps the core, turns the clock into ticks, and hands each Ready to the WAL
// worker, the transport and the apply worker. It never blocks on disk or network: the workers
// report back through the same queue.
//
//   caller ─▶ queue ─▶ core step ─▶ Ready ─▶ WAL worker ─▶ PersistedInput ─▶ core
//          ─▶ Ready.committed_entries ─▶ apply worker ─▶ the caller's completion

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "dengine/clock.h"
#include "dengine/completion.h"
#include "dengine/log_store.h"
#include "dengine/state_machine.h"
#include "kv_client/keep_alives.h"
#include "raft/raft_config.h"
#include "raft/raft_node.h"
#include "runtime/admission.h"
#include "runtime/apply_worker.h"
#include "runtime/compaction_record.h"
#include "runtime/image_ledger.h"
#include "runtime/inbound_queue.h"
#include "runtime/lessor.h"
#include "runtime/peer_router.h"
#include "runtime/snapshot_inbox.h"
#include "runtime/snapshot_shipper.h"
#include "runtime/transport.h"
#include "runtime/wal_submitter.h"
#include "runtime/wal_worker.h"

namespace dengine::runtime {

// The automatic keep-alives' schedule is dengine_kv_client's, shared with the remote client.
using kv_client::KeepAlives;
using kv_client::KeepAliveTicketImpl;

struct RuntimeOptions {
  // One Raft tick; the core's election and heartbeat intervals are counted in ticks.
  std::chrono::nanoseconds tick_interval = std::chrono::milliseconds(100);
  // Callers' requests in flight at most (Admission).
  size_t max_in_flight_requests = 65'536;
  // Inputs the loop takes from the queue per round: bounds the latency one round adds.
  size_t max_inputs_per_round = 1024;
  ApplyWorkerOptions apply;
  LessorOptions lessor;
  // Followers forward what only a leader serves through it (not owned; null: a single node).
  PeerRouter* router = nullptr;
  // Where images to and from peers are kept (DataDir::snapshots_dir); empty: this node sends
  // and takes none.
  std::string snapshot_dir;
  // Learners at most at once, checked by the leader (0: no limit; EngineOptions::max_learners).
  size_t max_learners = 0;
};

// What the node last published about itself; any thread may read it.
struct NodeStatus {
  NodeId id = kNoNode;
  NodeId leader = kNoNode;
  RaftRole role = RaftRole::kFollower;
  Term term = 0;
  Index commit = 0;
  Index applied = 0;
  ConfState conf;
  // A leader is known and has committed an entry of its term on this node's log.
  bool ready = false;
  bool stopped = false;
  Status fatal;  // why the node stopped, when it did so on its own
};

class RaftRuntime {
 public:
  // Starts the core thread and the workers. `log` and `state_machine` must outlive the
  // runtime; `boot` is what they recovered.
  static Result<std::unique_ptr<RaftRuntime>> start(
      raft::RaftConfig config, raft::RaftBootState boot, LogStore& log, StateMachine& state_machine,
      std::unique_ptr<Transport> transport, std::shared_ptr<Clock> clock,
      CompactionRecord compaction_record, RuntimeOptions options);
  ~RaftRuntime();
  RaftRuntime(const RaftRuntime&) = delete;
  RaftRuntime& operator=(const RaftRuntime&) = delete;

  // ---- callers (any thread); every completion runs exactly once, on a worker thread ----
  // A follower forwards the command to the leader (`hops` counts the forwards so far).
  void propose(std::string command, ProposalDone done, int hops = 0);
  // How many times a write may be forwarded between nodes with stale views of who leads.
  static constexpr int kMaxForwardHops = 3;
  // `at`: the confirmed index, for ReadMode::kConfirmed only.
  void read(ReadMode mode, ReadTask task, Index at = 0);
  // Confirms the index a read may be served at; `confirmed` runs on the core thread and must
  // only hand the index over. The caller then reads with read_at().
  void confirm_read(ReadMode mode, UniqueFunction<void(Result<Index>)> confirmed);
  // Serves `reader` (which returns a Result<Response>) with a state machine that applied
  // `index` (from confirm_read): on the caller's thread when it has (always so right after
  // this caller's own write), else by the apply worker once it has. Blocks until then.
  template <typename Response, typename Reader>
  Result<Response> read_at(Index index, Reader reader) {
    {
      std::shared_lock lock(state_mutex_);
      if (state_machine_.applied_index() >= index) {
        return reader(static_cast<const StateMachine&>(state_machine_));
      }
    }
    detail::Blocking<Response> blocking;
    read(
        ReadMode::kConfirmed,
        [&reader, done = blocking.completion()](Result<const StateMachine*> machine) mutable {
          if (!machine) return done(machine.status());
          done(reader(**machine));
        },
        index);
    return blocking.wait();
  }
  // Runs `task` on the core thread with the Raft core, or with why not when the request is
  // refused: the admission's refusal (overloaded, stopping), or the node stopped before it ran.
  using CoreTask = UniqueFunction<void(Result<raft::RaftNode*>)>;
  void run_on_core(CoreTask task);
  // A message from a peer (the transport's receiving side).
  void deliver(Message message);
  // One chunk of a leader's image (the transport's receiving side, before the kSnapshot
  // message that installs it).
  Status accept_snapshot_chunk(std::string_view chunk);

  // ---- leases: served by the leader keeping lease time, without a log entry; a follower asks
  // the leader through the router ----
  // `done` runs on any thread, possibly before the call returns.
  void renew_lease(LeaseId id, PeerRouter::LeaseDone done);
  void lease_time_left(LeaseId id, PeerRouter::LeaseDone done);
  // What a follower's PeerRouter asks of this node: served here, never forwarded (kNotLeader
  // when this node no longer leads).
  Result<LeaseTimeLeft> renew_lease_as_leader(LeaseId id);
  [[nodiscard]] Result<LeaseTimeLeft> lease_time_left_as_leader(LeaseId id) const;
  // Renews `ticket`'s lease every third of its TTL, starting now, until it is stopped or lost.
  void keep_alive(std::shared_ptr<KeepAliveTicketImpl> ticket);
  // A keep-alive's renewal answer, from a lease renewal's.
  static PeerRouter::LeaseDone keep_alive_answer(KeepAlives::RenewDone done);

  // The watches of this node's state machine.
  WatchHub& watch_hub() { return apply_worker_->watch_hub(); }

  // ---- membership (joint consensus, thesis §4.3), on the leader; a follower asks it ----
  // `done` gets the index of the entry that enters the new configuration once it is
  // appended; the change is in force on a node once its status().conf shows it.
  void change_membership(std::vector<ConfChange> changes, PeerRouter::IndexDone done);
  void change_membership_as_leader(std::vector<ConfChange> changes, PeerRouter::IndexDone done);
  // Thesis §3.10; `done` once the transfer started (it completes when `target` leads).
  void transfer_leadership(NodeId target, PeerRouter::StatusDone done);
  void transfer_leadership_as_leader(NodeId target, PeerRouter::StatusDone done);

  // Serializable reads on the caller's thread: `reader` runs with the state machine while no
  // apply is in progress.
  template <typename Reader>
  auto read_local(Reader&& reader) const {
    std::shared_lock lock(state_mutex_);
    return reader(static_cast<const StateMachine&>(state_machine_));
  }

  [[nodiscard]] NodeStatus status() const;
  // Waits until `predicate(status())` holds or `timeout` passes (real time); returns whether
  // it holds.
  template <typename Predicate>
  bool wait_for_status(Predicate predicate, std::chrono::nanoseconds timeout) const {
    std::unique_lock lock(status_mutex_);
    return status_changed_.wait_for(lock, timeout, [&] { return predicate(status_); });
  }

  // Waits until the core has run a round at clock reading `nanos` or later (it has taken its
  // ticks up to then), or the node stopped, or `timeout` passed (real time). For tests that
  // move a manual clock one tick at a time.
  bool wait_for_round_at(uint64_t nanos, std::chrono::nanoseconds timeout) const;

  // Stops the loop and the workers; what was proposed and not applied fails with kUnavailable
  // (it may still commit on other nodes). Idempotent; also on destruction.
  void stop();

  [[nodiscard]] const WalWorker& wal_worker() const { return *wal_worker_; }
  [[nodiscard]] size_t in_flight() const { return admission_.in_flight(); }
  // Images of this node's state sent whole to peers whose log was compacted past.
  [[nodiscard]] uint64_t images_sent() const {
    return snapshot_shipper_ ? snapshot_shipper_->images_sent() : 0;
  }
  // Why the last image sent to a peer did not arrive (ok: none failed).
  [[nodiscard]] Status last_image_failure() const {
    return snapshot_shipper_ ? snapshot_shipper_->last_failure() : Status::ok();
  }
  // An image of the state machine as applied now, written into `dir` (which must not exist;
  // its parent must) and described, for an operator's backup (etcd's Maintenance.Snapshot).
  // Applies wait while it is taken, as for a peer's image.
  Result<SnapshotMeta> write_image(const std::string& dir) {
    return apply_worker_->write_image(dir);
  }

 private:
  struct PendingProposal {
    Term term;
    ProposalDone done;
  };

  RaftRuntime(std::unique_ptr<raft::RaftNode> raft, bool keeps_lease_time, LogStore& log,
              StateMachine& state_machine, std::unique_ptr<Transport> transport,
              std::shared_ptr<Clock> clock, CompactionRecord compaction_record,
              RuntimeOptions options);

  // ---- raft_runtime.cc: admission, the loop, Ready handling, status ----
  // Admits a caller's request (Admission), or says why not: overloaded, or stopped.
  Status admit();
  // Wraps an admitted request's completion so that answering it ends the admission.
  template <typename Done>
  auto releasing(Done done) {
    return [this, done = std::move(done)](auto&&... answer) mutable {
      admission_.release();
      done(std::forward<decltype(answer)>(answer)...);
    };
  }
  void run();
  void handle(CoreInput& input, std::vector<PendingRead>& read_index_batch);
  void handle_proposal(ProposeInput& input);
  void handle_read(ReadInput& input, std::vector<PendingRead>& read_index_batch);
  void start_read_index_round(std::vector<PendingRead> reads);
  // The reads may be served at `index` now.
  void serve_read_at(Index index, PendingRead read);
  void serve_reads_at(Index index, std::vector<PendingRead> reads);
  void handle_applied(const AppliedInput& input);
  void advance_clock();
  // A worker's report for the core (not a caller's request): queued without admission, as a
  // peer's message is, so that an overloaded node still hears of it; dropped once stopped.
  void report_to_core(CoreTask task);
  void process_ready();
  // Hands the Ready's log write to the WAL worker; false when it needed no disk and counts as
  // persisted at once (the caller reports it to the core after the rest of the Ready).
  bool submit_storage(Ready& ready);
  // Ready contract step 0 on a follower: the log restarts after the leader's image.
  void begin_install(uint64_t write_id, const SnapshotMeta& snapshot);
  // The image's log write is durable: it may replace the state machine now.
  void submit_installs(uint64_t durable_write_id);
  // Sends kSnapshot messages to the shipper, the rest to the transport.
  void send(std::vector<Message> messages);
  bool applied_current_term() const;
  ApplyBatch make_apply_batch(std::vector<Entry> entries);
  void publish_status();
  void publish_round_clock();

  // ---- raft_runtime_stop.cc ----
  void shut_down();
  void drain_after_stop(const Status& why);
  // What a request gets once the node stopped: kUnavailable, with the cause when the node
  // stopped on its own (a failed write, a corrupt entry), so a caller need not dig for it.
  [[nodiscard]] Status refusal_after_stop() const;
  static Status engine_stopped();

  // ---- raft_runtime_routing.cc ----
  // The leader when it is another node that the router reaches, else kNoNode.
  NodeId reachable_leader();
  // Whether `input` went to the leader (this node knows another leader and can reach it).
  bool forward_proposal(ProposeInput& input);
  // Core thread: proposes a membership change, after the leader's checks.
  Result<Index> propose_checked(raft::RaftNode& raft, std::vector<ConfChange> changes) const;

  // ---- raft_runtime_leases.cc ----
  // The lessor learns the leases the state machine holds; keep-alives renew through this node.
  void start_lease_keeping();
  // The leader's half of leases: promotion, expiry, checkpoints, and the keep-alives.
  void keep_lease_time();
  // A command of the engine's own (a lease revoke or checkpoint), proposed without a caller.
  void propose_internal(std::string command);

  NodeId id_ = kNoNode;  // set before any thread starts; never changes

  // ---- owned by the core thread ----
  std::unique_ptr<raft::RaftNode> raft_;
  std::map<Index, PendingProposal> proposals_;
  std::map<uint64_t, std::vector<PendingRead>> read_rounds_;
  uint64_t next_read_round_ = 1;
  uint64_t next_tick_nanos_ = 0;
  ImageLedger images_;
  struct PendingInstall {
    uint64_t write_id;  // installed once this log write is durable
    ImageToInstall image;
  };
  std::deque<PendingInstall> pending_installs_;
  WalSubmitter wal_submitter_;
  bool running_ = true;
  Status fatal_;

  // ---- leases (raft_runtime_leases.cc) ----
  bool keeps_lease_time_;  // lease reads on: the lessor runs and expires leases
  // Core thread: the term in which the lessor was promoted; 0: not primary.
  Term lease_primary_term_ = 0;
  KeepAlives::Renew renew_for_keep_alive_;
  Lessor lessor_;  // any thread (renewals); the apply worker reports lease changes to it
  KeepAlives keep_alives_;

  StateMachine& state_machine_;
  mutable std::shared_mutex state_mutex_;
  std::unique_ptr<Transport> transport_;
  SnapshotInbox snapshot_inbox_;
  std::unique_ptr<SnapshotShipper> snapshot_shipper_;  // null without a snapshot_dir
  std::shared_ptr<Clock> clock_;
  uint64_t clock_listener_ = 0;
  RuntimeOptions options_;
  Admission admission_;
  PeerRouter* const router_;
  InboundQueue queue_;
  std::atomic<bool> stopped_{false};

  std::unique_ptr<WalWorker> wal_worker_;
  std::unique_ptr<ApplyWorker> apply_worker_;
  std::thread core_thread_;
  std::mutex stop_mutex_;

  std::atomic<uint64_t> round_clock_{0};  // the clock reading of the last round
  mutable std::atomic<int> round_waiters_{0};
  mutable std::mutex status_mutex_;
  mutable std::condition_variable status_changed_;
  NodeStatus status_;
};

}  // namespace dengine::runtime
