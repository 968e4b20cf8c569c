#include "dengine/embedded_engine.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <system_error>

#include "kv/durable_files.h"
#include "kv/memory_kv_store.h"
#include "raft/raft_config.h"
#include "runtime/data_dir.h"
#include "runtime/engine_internals.h"
#include "runtime/engine_kv_backend.h"
#include "runtime/in_process_network_impl.h"
#include "runtime/raft_runtime.h"
#include "runtime/snapshot_inbox.h"
#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"
#endif

namespace dengine {

struct EmbeddedEngine::Impl {
  std::shared_ptr<InProcessNetwork> network;  // null for a single node
  runtime::DataDir data_dir;
  std::unique_ptr<LogStore> log;
  std::unique_ptr<StateMachine> state_machine;
  std::unique_ptr<runtime::RaftRuntime> runtime;
  std::unique_ptr<runtime::EngineKvBackend> backend;
  std::unique_ptr<KvClient> client;
  UniqueFunction<void()> before_stop;  // from the peer wiring
  bool stopped = false;
  Status stop_status;
};

namespace {

kv::MemoryKvStoreOptions memory_state_options() {
  kv::MemoryKvStoreOptions options;
  options.model_durability = false;
  return options;
}

Result<std::unique_ptr<StateMachine>> open_state_machine(const EngineOptions& options,
                                                         const runtime::DataDir& dir) {
  if (options.storage == StorageKind::kWalWithMemoryState) {
    // Nothing of it survives a restart, which replays the whole log instead.
    return std::unique_ptr<StateMachine>(
        std::make_unique<kv::MemoryKvStore>(memory_state_options()));
  }
#if DENGINE_WITH_ROCKSDB
  Result<std::unique_ptr<kv::RocksKvStore>> store = kv::RocksKvStore::open(dir.kv_dir());
  if (!store) return store.status();
  return std::unique_ptr<StateMachine>(std::move(*store));
#else
  (void)dir;
  return Status::invalid_argument("engine: storage kDurable needs a build with RocksDB");
#endif
}

// A follower records a leader's image in its log before it installs it (Ready contract step
// 0): a crash in between leaves a log that starts after an image the state machine lacks.
// The received image is still kept under the index the record names; install it. Whatever
// else is under the snapshots dir is left from transfers that ended with the process.
Status install_received_image(const runtime::DataDir& dir, const SnapshotMeta& image,
                              StateMachine& state_machine) {
  if (image.index > state_machine.applied_index()) {
    const std::string received =
        runtime::SnapshotInbox::image_dir(dir.snapshots_dir(), image.index);
    std::error_code error;
    if (std::filesystem::exists(received, error)) {
      if (Status installed = state_machine.install_snapshot(received); !installed) {
        return Status(installed.code(),
                      "engine: " + dir.path +
                          ": installing the leader's image received before "
                          "the restart: " +
                          installed.message(),
                      installed.detail());
      }
    }
  }
  return kv::remove_tree(dir.snapshots_dir());
}

// What the node boots from: the durable log after the last image, and what the state machine
// holds. Inconsistent pieces are refused with a message naming them.
Result<raft::RaftBootState> boot_state(const std::string& data_dir, RecoveredLog recovered,
                                       const SnapshotMeta& image, const StateMachine& state_machine,
                                       bool image_survives) {
  raft::RaftBootState boot;
  boot.hard_state = recovered.hard_state;
  boot.snapshot = image;
  if (recovered.first_index > image.index + 1) {
    return Status::corruption("engine: " + data_dir + ": the log starts at index " +
                              std::to_string(recovered.first_index) +
                              " but the last compaction record is at index " +
                              std::to_string(image.index) + ": entries are missing");
  }
  for (Entry& entry : recovered.entries) {
    if (entry.index > image.index) boot.entries.push_back(std::move(entry));
  }
  boot.applied = image_survives ? state_machine.applied_index() : 0;
  if (image_survives && boot.applied < image.index) {
    return Status::corruption("engine: " + data_dir + ": the state machine holds index " +
                              std::to_string(boot.applied) + " but the log was compacted behind " +
                              std::to_string(image.index));
  }
  const Index last = boot.entries.empty() ? image.index : boot.entries.back().index;
  if (boot.applied > last) {
    return Status::corruption("engine: " + data_dir + ": the state machine holds index " +
                              std::to_string(boot.applied) + " beyond the log's last index " +
                              std::to_string(last));
  }
  // Applied entries were committed, even if the hard state that said so was not yet written.
  boot.hard_state.commit = std::max(boot.hard_state.commit, boot.applied);
  return boot;
}

raft::RaftConfig raft_config(const EngineOptions& options, bool image_survives) {
  raft::RaftConfig config;
  config.id = options.node_id;
  config.voters = options.initial_members.empty() ? std::vector<NodeId>{options.node_id}
                                                  : options.initial_members;
  config.election_timeout_ticks =
      static_cast<int>(options.election_timeout / options.heartbeat_interval);
  config.heartbeat_interval_ticks = 1;
  // docs/architecture.md §9: the lease lasts less than the minimum election timeout, minus a drift
  // allowance (a tenth of it, and at least one heartbeat).
  const auto drift =
      std::max(options.election_timeout / 10,
               std::chrono::duration_cast<std::chrono::milliseconds>(options.heartbeat_interval));
  config.lease_duration_nanos =
      static_cast<uint64_t>(std::chrono::nanoseconds(options.election_timeout - drift).count());
  config.compaction_trailing_entries = image_survives ? options.retained_log_entries : 0;
  config.random_seed = std::random_device{}() ^ (options.node_id * 0x9e3779b97f4a7c15ULL);
  return config;
}

}  // namespace

Result<std::unique_ptr<EmbeddedEngine>> EmbeddedEngine::start(const std::string& data_dir) {
  EngineOptions options;
  options.data_dir = data_dir;
  return start(std::move(options));
}

Result<std::unique_ptr<EmbeddedEngine>> EmbeddedEngine::start(EngineOptions options) {
  return start(std::move(options), nullptr, runtime::InternalKeys::make());
}

Result<std::unique_ptr<EmbeddedEngine>> runtime::start_with_peers(EngineOptions options,
                                                                  PeerWiring wiring) {
  if (options.network) {
    return Status::invalid_argument(
        "engine: an engine reached through peer wiring takes no in-process network");
  }
  if (!wiring.transport || wiring.router == nullptr) {
    return Status::invalid_argument("engine: peer wiring needs a transport and a router");
  }
  return EmbeddedEngine::start(std::move(options), &wiring, InternalKeys::make());
}

Result<std::unique_ptr<EmbeddedEngine>> EmbeddedEngine::start(EngineOptions options,
                                                              runtime::PeerWiring* wiring,
                                                              runtime::InternalKey /*key*/) {
  if (Status valid = runtime::validate_options(options, wiring != nullptr); !valid) return valid;
  auto impl = std::make_unique<Impl>();
  Result<runtime::DataDir> dir = runtime::open_data_dir(options.data_dir, options.node_id);
  if (!dir) return dir.status();
  impl->data_dir = *dir;

  Result<OpenedLogStore> opened = open_wal_log_store(impl->data_dir.wal_dir());
  if (!opened) return opened.status();
  impl->log = std::move(opened->store);
  Result<std::unique_ptr<StateMachine>> machine = open_state_machine(options, impl->data_dir);
  if (!machine) return machine.status();
  impl->state_machine = std::move(*machine);

  const bool image_survives = options.storage == StorageKind::kDurable;
  runtime::CompactionRecord record(impl->data_dir.path, "compaction");
  Result<SnapshotMeta> image = record.load();
  if (!image) return image.status();
  if (image_survives) {
    Status installed = install_received_image(impl->data_dir, *image, *impl->state_machine);
    if (!installed) return installed;
  }
  Result<raft::RaftBootState> boot = boot_state(impl->data_dir.path, std::move(opened->recovered),
                                                *image, *impl->state_machine, image_survives);
  if (!boot) return boot.status();

  runtime::RuntimeOptions runtime_options;
  runtime_options.tick_interval = options.heartbeat_interval;
  runtime_options.max_in_flight_requests = options.max_in_flight_requests;
  runtime_options.max_learners = options.max_learners;
  runtime_options.apply.image_survives_restart = image_survives;
  runtime_options.apply.compaction.snapshot_every_entries = options.snapshot_every_entries;
  runtime_options.apply.compaction.retained_entries = options.retained_log_entries;
  // An in-memory state machine's log is never compacted: no peer ever needs its image.
  if (image_survives) runtime_options.snapshot_dir = impl->data_dir.snapshots_dir();
  std::shared_ptr<Clock> clock = options.clock ? options.clock : steady_clock();
  // A single node has no peers: its transport never has anything to send.
  struct NoPeers final : runtime::Transport {
    void send(std::vector<Message> /*messages*/) override {}
  };
  std::unique_ptr<runtime::Transport> transport = std::make_unique<NoPeers>();
  impl->network = options.network;
  if (impl->network) {
    transport = impl->network->impl().network.transport_for(options.node_id);
    runtime_options.router = &impl->network->impl();
  } else if (wiring != nullptr) {
    transport = std::move(wiring->transport);
    runtime_options.router = wiring->router;
    impl->before_stop = std::move(wiring->before_stop);
  }
  Result<std::unique_ptr<runtime::RaftRuntime>> started = runtime::RaftRuntime::start(
      raft_config(options, image_survives), std::move(*boot), *impl->log, *impl->state_machine,
      std::move(transport), std::move(clock), std::move(record), runtime_options);
  if (!started) return started.status();
  impl->runtime = std::move(*started);
  if (impl->network) impl->network->impl().join(options.node_id, *impl->runtime);
  impl->backend = std::make_unique<runtime::EngineKvBackend>(*impl->runtime);
  impl->client = std::make_unique<KvClient>(*impl->backend);
  return std::unique_ptr<EmbeddedEngine>(new EmbeddedEngine(std::move(impl)));
}

EmbeddedEngine::EmbeddedEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

runtime::RaftRuntime& EmbeddedEngine::raft_runtime(runtime::InternalKey /*key*/) {
  return *impl_->runtime;
}

runtime::RaftRuntime& runtime::runtime_of(EmbeddedEngine& engine) {
  return engine.raft_runtime(InternalKeys::make());
}

EmbeddedEngine::~EmbeddedEngine() {
  (void)stop();
}

Status EmbeddedEngine::wait_ready(std::chrono::milliseconds timeout) {
  runtime::NodeStatus last;
  const bool ready = impl_->runtime->wait_for_status(
      [&](const runtime::NodeStatus& status) {
        last = status;
        return status.ready || status.stopped;
      },
      timeout);
  if (last.stopped) {
    // A node that stopped on its own says why.
    return Status::unavailable(last.fatal.is_ok() ? "engine: stopped"
                                                  : "engine: stopped: " + last.fatal.message());
  }
  if (!ready) {
    return Status::timed_out(
        "engine: not ready (no leader known, or no entry of its term applied here) after " +
        std::to_string(timeout.count()) + " ms");
  }
  return Status::ok();
}

Status EmbeddedEngine::stop() {
  if (impl_->stopped) return impl_->stop_status;
  if (impl_->before_stop) {
    UniqueFunction<void()> before_stop = std::move(impl_->before_stop);
    impl_->before_stop = {};
    before_stop();
  }
  impl_->stopped = true;
  if (impl_->network) impl_->network->impl().leave(impl_->data_dir.member_id);
  impl_->runtime->stop();
  Status status = impl_->runtime->status().fatal;
  // A graceful stop leaves less of the log to replay at the next start.
  if (Status flushed = impl_->state_machine->flush(); status && !flushed) status = flushed;
  impl_->stop_status = status;
  return status;
}

KvClient& EmbeddedEngine::client() {
  return *impl_->client;
}
NodeId EmbeddedEngine::id() const {
  return impl_->data_dir.member_id;
}
bool EmbeddedEngine::is_leader() const {
  return impl_->runtime->status().role == RaftRole::kLeader;
}
NodeId EmbeddedEngine::leader() const {
  return impl_->runtime->status().leader;
}
ConfState EmbeddedEngine::members() const {
  return impl_->runtime->status().conf;
}

MembershipWatch EmbeddedEngine::watch_membership() {
  runtime::RaftRuntime* runtime = impl_->runtime.get();
  return MembershipWatch([runtime](const std::optional<MembershipEvent>& last,
                                   std::chrono::milliseconds timeout) -> Result<MembershipEvent> {
    auto event_of = [](const runtime::NodeStatus& status) {
      return MembershipEvent{.members = status.conf, .leader = status.leader, .term = status.term};
    };
    runtime::NodeStatus seen;
    const bool changed = runtime->wait_for_status(
        [&](const runtime::NodeStatus& status) {
          seen = status;
          return status.stopped || !last || event_of(status) != *last;
        },
        timeout);
    if (seen.stopped) return Status::unavailable("engine stopped");
    if (!changed) return Status::timed_out("membership: no change within the timeout");
    return event_of(seen);
  });
}

namespace {

bool holds(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// Whether `change` is in force in `conf`, judged on its incoming half: a removal counts once
// the joint configuration that drops the node is applied, since a removed node may never see
// the entry that leaves the joint configuration.
bool in_force(const ConfState& conf, const ConfChange& change) {
  switch (change.op) {
    case ConfChangeOp::kAddVoter: return holds(conf.voters, change.node);
    case ConfChangeOp::kAddLearner: return holds(conf.learners, change.node);
    case ConfChangeOp::kRemoveNode:
      return !holds(conf.voters, change.node) && !holds(conf.learners, change.node);
  }
  return false;
}

}  // namespace

Status EmbeddedEngine::change_membership(ConfChange change, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  detail::Blocking<Index> proposed;
  impl_->runtime->change_membership({change}, proposed.completion());
  Result<Index> index = proposed.wait();
  if (!index) return index.status();
  // Done once the configuration has also left the joint state, so the next change can start
  // at once; a node removing itself may never see that last entry.
  const bool removes_self = change.op == ConfChangeOp::kRemoveNode && change.node == id();
  const bool done = impl_->runtime->wait_for_status(
      [&](const runtime::NodeStatus& status) {
        return status.stopped || (status.applied >= *index && in_force(status.conf, change) &&
                                  (status.conf.voters_outgoing.empty() || removes_self));
      },
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline -
                                                           std::chrono::steady_clock::now()));
  if (impl_->runtime->status().stopped) return Status::unavailable("engine stopped");
  if (!done) {
    return Status::timed_out("membership: the change to node " + std::to_string(change.node) +
                             " was proposed at index " + std::to_string(*index) +
                             " but is not in force on this node yet");
  }
  return Status::ok();
}

Status EmbeddedEngine::add_learner(NodeId node, std::chrono::milliseconds timeout) {
  return change_membership(ConfChange{ConfChangeOp::kAddLearner, node}, timeout);
}
Status EmbeddedEngine::add_voter(NodeId node, std::chrono::milliseconds timeout) {
  if (holds(members().learners, node)) {
    return Status::failed_precondition("membership: node " + std::to_string(node) +
                                       " is a learner: promote it instead");
  }
  return change_membership(ConfChange{ConfChangeOp::kAddVoter, node}, timeout);
}
Status EmbeddedEngine::promote(NodeId node, std::chrono::milliseconds timeout) {
  if (!holds(members().learners, node)) {
    return Status::failed_precondition("membership: node " + std::to_string(node) +
                                       " is not a learner");
  }
  return change_membership(ConfChange{ConfChangeOp::kAddVoter, node}, timeout);
}
Status EmbeddedEngine::remove_member(NodeId node, std::chrono::milliseconds timeout) {
  return change_membership(ConfChange{ConfChangeOp::kRemoveNode, node}, timeout);
}

Status EmbeddedEngine::transfer_leadership(NodeId to, std::chrono::milliseconds timeout) {
  detail::Blocking<bool> started;
  impl_->runtime->transfer_leadership(to, [done = started.completion()](Status status) mutable {
    if (!status) return done(std::move(status));
    done(true);
  });
  if (Result<bool> begun = started.wait(); !begun) return begun.status();
  const bool led = impl_->runtime->wait_for_status(
      [&](const runtime::NodeStatus& status) { return status.stopped || status.leader == to; },
      timeout);
  if (impl_->runtime->status().stopped) return Status::unavailable("engine stopped");
  if (!led) {
    return Status::timed_out("membership: node " + std::to_string(to) +
                             " does not lead yet after the transfer");
  }
  return Status::ok();
}

}  // namespace dengine
