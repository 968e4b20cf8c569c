#include "tests/sim/simulation.h"

#include <cstdio>
#include <stdexcept>
#include <utility>

#include "common/check.h"

namespace dengine::sim {
namespace {

// Thrown by the check handler the simulator installs: a broken core invariant ends the seed
// as a failure with its replay command instead of aborting the whole run.
struct InvariantViolation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void throw_on_check_failure(std::string_view condition, std::string_view file, int line,
                            std::string_view detail) {
  std::string text = "invariant violated at " + std::string(file) + ":" + std::to_string(line) +
                     ": " + std::string(condition);
  if (!detail.empty()) text += " — " + std::string(detail);
  throw InvariantViolation(text);
}

constexpr int kElectionTimeoutTicks = 10;
constexpr int kHeartbeatTicks = 1;

}  // namespace

void SimStats::add(const SimStats& other) {
  elections += other.elections;
  leader_changes += other.leader_changes;
  crashes += other.crashes;
  partitions += other.partitions;
  clogs += other.clogs;
  slow_disks += other.slow_disks;
  pauses += other.pauses;
  snapshots_sent += other.snapshots_sent;
  snapshots_installed += other.snapshots_installed;
  compactions += other.compactions;
  leader_transfers += other.leader_transfers;
  leader_transfers_completed += other.leader_transfers_completed;
  membership_changes += other.membership_changes;
  messages += other.messages;
  messages_dropped += other.messages_dropped;
  ops_ok += other.ops_ok;
  reads_log += other.reads_log;
  reads_index += other.reads_index;
  reads_lease += other.reads_lease;
  ops_unknown += other.ops_unknown;
  entries_committed += other.entries_committed;
  events += other.events;
  virtual_time += other.virtual_time;
}

uint64_t entry_hash(const Entry& entry) {
  // FNV-1a over the fields that define an entry.
  uint64_t hash = 1469598103934665603ULL;
  auto mix = [&hash](uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      hash ^= (value >> (i * 8)) & 0xFF;
      hash *= 1099511628211ULL;
    }
  };
  mix(entry.term);
  mix(entry.index);
  mix(static_cast<uint64_t>(entry.type));
  for (char c : entry.data) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

SeedResult run_seed(const SimOptions& options) {
  const CheckFailureHandler previous = set_check_failure_handler(&throw_on_check_failure);
  SeedResult result;
  try {
    Simulation simulation(options);
    result = simulation.run();
  } catch (const InvariantViolation& violation) {
    result.passed = false;
    result.failure = violation.what();
  }
  set_check_failure_handler(previous);
  return result;
}

Simulation::Simulation(const SimOptions& options) : options_(options), rng_(options.seed) {
  shape_.clients = options_.clients + static_cast<int>(rng_.below(8));
  constexpr uint64_t kAppendBytes[] = {1, 1, 200, 4096};
  shape_.max_append_bytes = kAppendBytes[rng_.below(4)];
  shape_.max_inflight_messages = rng_.between(1, 16);
  shape_.leader_focus = static_cast<double>(rng_.below(4)) / 4.0;
  constexpr double kNewLeaderCrash[] = {0.0, 0.2, 0.4, 0.7};
  shape_.new_leader_crash = kNewLeaderCrash[rng_.below(4)];
  // Snapshots forced often: small trailing logs send lagging followers images.
  shape_.flush_interval = rng_.between(30'000, 1'000'000);
  constexpr uint64_t kTrailing[] = {0, 3, 20, 200};
  shape_.trailing_entries = kTrailing[rng_.below(4)];
  nodes_.resize(static_cast<size_t>(options_.nodes));
  for (int i = 0; i < options_.nodes; ++i) {
    Node& n = nodes_[static_cast<size_t>(i)];
    n.id = NodeId(i + 1);
    if (options_.faults.has(Fault::kDrift)) {
      n.drift_ppm = static_cast<int64_t>(rng_.below(100'001)) - 50'000;  // ±5%
    }
  }
  clients_.resize(static_cast<size_t>(shape_.clients));
  for (int i = 0; i < shape_.clients; ++i) clients_[static_cast<size_t>(i)].id = i;
  trace("shape: clients " + std::to_string(shape_.clients) + " max_append_bytes " +
        std::to_string(shape_.max_append_bytes) + " max_inflight " +
        std::to_string(shape_.max_inflight_messages) + " leader_focus " +
        std::to_string(shape_.leader_focus) + " new_leader_crash " +
        std::to_string(shape_.new_leader_crash));
}

Simulation::~Simulation() = default;

SeedResult Simulation::run() {
  for (Node& n : nodes_) start_node(n);
  for (Client& client : clients_) schedule_client(client, rng_.between(1'000, 50'000));
  schedule(shape_.flush_interval, [this] { flush_state_machines(); });
  if (!options_.faults.empty()) schedule_next_fault();
  schedule(options_.fault_phase, [this] { heal_all(); });
  const Micros end = options_.fault_phase + options_.liveness_bound;

  while (!events_.empty() && !failure_) {
    Event event = events_.top();
    events_.pop();
    if (event.at > end) break;
    now_ = event.at;
    if (++stats_.events > options_.max_events) {
      fail("event budget of " + std::to_string(options_.max_events) +
           " exceeded: a message storm or a livelock");
      break;
    }
    event.action();
  }
  now_ = end;
  if (!failure_) check_final();

  stats_.virtual_time = now_;
  SeedResult result;
  result.passed = !failure_;
  result.failure = failure_.value_or("");
  result.stats = stats_;
  return result;
}

void Simulation::schedule(Micros delay, std::function<void()> action) {
  events_.push(Event{now_ + delay, event_seq_++, std::move(action)});
}

void Simulation::fail(std::string reason) {
  if (!failure_) failure_ = "t=" + std::to_string(now_) + "us: " + std::move(reason);
}

void Simulation::trace(const std::string& line) const {
  if (!options_.trace) return;
  std::printf("%10.3fms %s\n", static_cast<double>(now_) / 1000.0, line.c_str());
}

void Simulation::start_node(Node& n) {
  raft::RaftConfig config;
  config.id = n.id;
  for (const Node& peer : nodes_) config.voters.push_back(peer.id);
  config.election_timeout_ticks = kElectionTimeoutTicks;
  config.heartbeat_interval_ticks = kHeartbeatTicks;
  config.max_inflight_messages = shape_.max_inflight_messages;
  config.max_append_bytes = shape_.max_append_bytes;
  config.compaction_trailing_entries = shape_.trailing_entries;
  config.random_seed = rng_.next();
  // Followers refuse votes for at least (election timeout - 1) tick intervals after hearing
  // from the leader (the first tick can come at once); keep the lease well inside that.
  config.lease_duration_nanos =
      (kElectionTimeoutTicks - 1) * options_.tick_interval * 1000 * 7 / 10;

  // The state machine comes back as its last durable image; applies after it are lost and
  // replayed from the log, which must still hold them.
  raft::RaftBootState boot;
  boot.hard_state = n.durable_hard_state;
  if (n.durable_image) boot.snapshot = n.durable_image->meta;
  for (const Entry& entry : n.durable_log) {
    if (entry.index > boot.snapshot.index) boot.entries.push_back(entry);
  }
  boot.applied = boot.snapshot.index;
  auto created = raft::RaftNode::create(std::move(config), std::move(boot));
  if (!created) {
    fail("node " + std::to_string(n.id) + " failed to start: " + created.status().to_string());
    return;
  }
  n.raft = std::move(*created);
  n.up = true;
  n.machine = n.durable_image ? RegisterMachine(n.durable_image->registers) : RegisterMachine();
  n.applied = boot.snapshot.index;
  n.applied_term = boot.snapshot.term;
  n.incoming_image.reset();
  n.disk_queue.clear();
  n.disk_free_at = now_;
  n.last_role = n.raft->role();
  n.last_term = n.raft->term();
  n.leader_last_index = 0;
  n.leader_last_term = 0;
  n.commits_verified = 0;
  n.verified_terms.clear();
  n.verified_offset = 0;
  n.reads_waiting_apply.clear();
  trace("n" + std::to_string(n.id) + " start term " + std::to_string(n.raft->term()) + " image " +
        std::to_string(n.applied) + " log " + std::to_string(n.durable_log_offset) + ".." +
        std::to_string(n.durable_last_index()) + " commit " +
        std::to_string(n.durable_hard_state.commit));
  // Nodes tick out of phase, as independent processes would.
  schedule(rng_.below(options_.tick_interval) + 1,
           [this, id = n.id, inc = n.incarnation] { schedule_tick(id, inc); });
}

void Simulation::crash_node(Node& n) {
  ++stats_.crashes;
  trace("n" + std::to_string(n.id) + " CRASH (losing " + std::to_string(n.disk_queue.size()) +
        " unsynced writes)");
  n.up = false;
  ++n.incarnation;
  // Its in-memory log is gone; what survives is re-checked when it restarts.
  for (size_t i = 0; i < n.verified_terms.size(); ++i) {
    forget_verified(n, n.verified_offset + i + 1, n.verified_terms[i]);
  }
  n.verified_terms.clear();
  n.verified_offset = 0;
  n.raft.reset();
  n.disk_queue.clear();  // unsynced writes are gone
}

uint64_t Simulation::node_clock_nanos(const Node& n) const {
  const auto real = static_cast<int64_t>(now_ * 1000);
  return static_cast<uint64_t>(real + real / 1'000'000 * n.drift_ppm);
}

bool Simulation::deferred_while_paused(Node& n, const std::function<void()>& action) {
  if (now_ >= n.paused_until) return false;
  schedule(n.paused_until - now_, action);
  return true;
}

void Simulation::schedule_tick(NodeId id, uint64_t incarnation) {
  Node& n = node(id);
  if (!n.up || n.incarnation != incarnation || failure_) return;
  // A paused process does not tick; it resumes on its own schedule (no catching up).
  if (now_ < n.paused_until) {
    schedule(n.paused_until - now_ + 1,
             [this, id, incarnation] { schedule_tick(id, incarnation); });
    return;
  }
  n.raft->observe_clock(node_clock_nanos(n));
  n.raft->tick();
  drain(n);
  // A fast clock ticks more often in real time.
  const auto interval = static_cast<int64_t>(options_.tick_interval);
  const auto drifted = interval - interval * n.drift_ppm / 1'000'000;
  schedule(static_cast<Micros>(drifted),
           [this, id, incarnation] { schedule_tick(id, incarnation); });
}

void Simulation::drain(Node& n) {
  while (n.up && !failure_ && n.raft->has_ready()) {
    raft::RaftNode& raft = *n.raft;
    Ready ready = raft.take_ready();
    if (ready.compact_to > n.durable_log_offset) {
      // Entries up to compact_to are durable and covered by the durable image.
      ++stats_.compactions;
      while (!n.durable_log.empty() && n.durable_log.front().index <= ready.compact_to) {
        n.durable_log_offset = n.durable_log.front().index;
        n.durable_log_offset_term = n.durable_log.front().term;
        n.durable_log.pop_front();
      }
    }
    if (ready.has_storage_work()) {
      std::shared_ptr<const Image> image;
      if (ready.snapshot) {
        if (!n.incoming_image || n.incoming_image->meta.index != ready.snapshot->index) {
          fail("n" + std::to_string(n.id) + " must install snapshot " +
               std::to_string(ready.snapshot->index) + " but no such image arrived");
          return;
        }
        image = n.incoming_image;
      }
      persist(n, raft, ready.write_id, std::move(ready.hard_state), std::move(ready.entries),
              std::move(image));
    }
    for (Message& message : ready.messages) send(std::move(message));
    record_commits(n);
    if (!ready.committed_entries.empty()) {
      apply(n, ready.committed_entries);
      raft.on_applied(ready.committed_entries.back().index);
    }
    on_read_states(n, ready);
    serve_reads_waiting_apply(n);
    check_node(n);
  }
}

void Simulation::persist(Node& n, raft::RaftNode& /*raft*/, uint64_t write_id,
                         std::optional<HardState> hard_state, std::vector<Entry> entries,
                         std::shared_ptr<const Image> snapshot) {
  n.disk_queue.push_back(
      PendingWrite{write_id, std::move(hard_state), std::move(entries), std::move(snapshot)});
  Micros latency = rng_.between(100, 1'000);
  if (now_ < n.slow_disk_until) latency = rng_.between(20'000, 200'000);
  // In order: a write completes after the one before it.
  const Micros done = std::max(now_, n.disk_free_at) + latency;
  n.disk_free_at = done;
  schedule(done - now_, [this, id = n.id, inc = n.incarnation] { on_disk_done(id, inc); });
}

void Simulation::on_disk_done(NodeId id, uint64_t incarnation) {
  Node& n = node(id);
  if (!n.up || n.incarnation != incarnation || n.disk_queue.empty()) return;
  // The disk finished, but the paused process learns of it only when it runs again.
  if (deferred_while_paused(n, [this, id, incarnation] { on_disk_done(id, incarnation); })) return;
  PendingWrite write = std::move(n.disk_queue.front());
  n.disk_queue.pop_front();
  if (write.snapshot) {
    // The leader's image replaces the whole log (Raft §7).
    n.durable_log.clear();
    n.durable_log_offset = write.snapshot->meta.index;
    n.durable_log_offset_term = write.snapshot->meta.term;
    n.durable_image = write.snapshot;
  }
  if (!write.entries.empty()) {
    const Index first = write.entries.front().index;
    DENGINE_CHECK(first > n.durable_log_offset && first <= n.durable_last_index() + 1);
    n.durable_log.resize(first - 1 - n.durable_log_offset);
    for (Entry& entry : write.entries) n.durable_log.push_back(std::move(entry));
  }
  if (write.hard_state) n.durable_hard_state = *write.hard_state;
  // Ready contract: the image is installed once the write carrying it is durable.
  if (write.snapshot) install_snapshot(n, write.snapshot);
  n.raft->on_persisted(write.write_id);
  drain(n);
}

uint64_t registers_hash(const std::map<uint32_t, int64_t>& registers) {
  uint64_t hash = 1469598103934665603ULL;
  for (const auto& [key, value] : registers) {
    hash = (hash ^ key) * 1099511628211ULL;
    hash = (hash ^ static_cast<uint64_t>(value)) * 1099511628211ULL;
  }
  return hash;
}

void Simulation::check_state_at(Index index, const std::map<uint32_t, int64_t>& registers,
                                NodeId id) {
  const uint64_t hash = registers_hash(registers);
  auto [it, inserted] = state_hash_at_.emplace(index, hash);
  if (!inserted && it->second != hash) {
    fail("state machine safety: n" + std::to_string(id) + " holds a different state after index " +
         std::to_string(index) + " than another node's image");
  }
}

void Simulation::flush_state_machines() {
  for (Node& n : nodes_) {
    if (!n.up || now_ < n.paused_until || n.applied == 0) continue;
    if (n.durable_image && n.durable_image->meta.index >= n.applied) continue;
    // A flush makes everything applied so far durable, as one image.
    auto image = std::make_shared<Image>();
    image->meta.index = n.applied;
    image->meta.term = n.applied_term;
    image->meta.conf = n.raft->conf_state();  // as of the applied entries
    image->registers = n.machine.registers();
    check_state_at(n.applied, image->registers, n.id);
    if (failure_) return;
    n.durable_image = image;
    n.raft->on_snapshot_ready(image->meta);
    drain(n);
  }
  schedule(shape_.flush_interval, [this] { flush_state_machines(); });
}

void Simulation::install_snapshot(Node& n, const std::shared_ptr<const Image>& image) {
  ++stats_.snapshots_installed;
  trace("n" + std::to_string(n.id) + " installs snapshot " + std::to_string(image->meta.index));
  // Raft §7: nothing at or below the image's index is applied again.
  if (image->meta.index <= n.applied) {
    fail("n" + std::to_string(n.id) + " installs snapshot " + std::to_string(image->meta.index) +
         " but already applied " + std::to_string(n.applied));
    return;
  }
  n.machine = RegisterMachine(image->registers);
  n.applied = image->meta.index;
  n.applied_term = image->meta.term;
  check_state_at(n.applied, image->registers, n.id);
  n.raft->on_applied(n.applied);
}

void Simulation::apply(Node& n, const std::vector<Entry>& entries) {
  for (const Entry& entry : entries) {
    if (entry.index != n.applied + 1) {
      fail("n" + std::to_string(n.id) + " applied index " + std::to_string(entry.index) +
           " after " + std::to_string(n.applied));
      return;
    }
    n.applied = entry.index;
    n.applied_term = entry.term;
    // State machine safety: every node applies the same entry at each index.
    if (entry.index <= committed_.size()) {
      const CommittedEntry& known = committed_[entry.index - 1];
      if (known.term != entry.term || known.hash != entry_hash(entry)) {
        fail("state machine safety: n" + std::to_string(n.id) + " applied a different entry at " +
             std::to_string(entry.index) + " (term " + std::to_string(entry.term) + " vs " +
             std::to_string(known.term) + ")");
        return;
      }
    } else {
      fail("n" + std::to_string(n.id) + " applied index " + std::to_string(entry.index) +
           " that no node reported committed");
      return;
    }
    if (entry.type != EntryType::kNormal) continue;
    std::optional<Command> command = decode_command(entry.data);
    if (!command) {
      fail("undecodable command at index " + std::to_string(entry.index));
      return;
    }
    const CommandResult result = n.machine.apply(*command);
    if (state_hash_at_.count(entry.index) != 0)
      check_state_at(entry.index, n.machine.registers(), n.id);
    // Answer the client waiting on this node for this index, if any.
    for (Client& client : clients_) {
      if (!client.op || client.op->read_mode != ReadMode::kLog || client.op->node != n.id ||
          client.op->index != entry.index || client.op->node_incarnation != n.incarnation) {
        continue;
      }
      if (client.op->op_uid == command->op_uid) {
        client_complete(client, true, result);
      } else {
        // Another entry won this index: ours was never committed and never will be.
        client_forget(client);
      }
    }
  }
}

}  // namespace dengine::sim
