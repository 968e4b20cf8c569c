#pragma once

// The deterministic cluster simulator: N real RaftNodes, in-memory disks that lose unsynced
// writes on a crash, a simulated network, a virtual clock and clients, all driven by one
// seeded Rng. The same options and seed replay the same run exactly.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "dengine/entry.h"
#include "raft/raft_message.h"
#include "raft/raft_node.h"
#include "tests/sim/fault.h"
#include "tests/sim/linearizability.h"
#include "tests/sim/register_machine.h"
#include "tests/sim/rng.h"

namespace dengine::sim {

using Micros = uint64_t;

struct SimOptions {
  int nodes = 3;
  uint64_t seed = 1;
  FaultSet faults = FaultSet::all();
  int clients = 4;
  uint32_t keys = 3;
  Micros tick_interval = 10'000;
  Micros fault_phase = 6'000'000;
  // Once faults stop, a leader must emerge and every client must complete an operation
  // within this much virtual time.
  Micros liveness_bound = 4'000'000;
  Micros client_timeout = 1'000'000;
  // A run that needs more events than this is failed: only a message storm gets there.
  uint64_t max_events = 5'000'000;
  bool trace = false;
};

// Parameters drawn from the seed, so that the sweep covers many cluster shapes: small append
// batches split old-term entries from the new leader's no-op (Figure 8 needs that), narrow
// windows stress flow control, many clients pile up uncommitted entries.
struct SimShape {
  int clients = 4;
  uint64_t max_append_bytes = 4096;
  size_t max_inflight_messages = 8;
  // Probability that a crash or partition targets the current leader.
  double leader_focus = 0.5;
  // Probability that a newly elected leader crashes within milliseconds, before its no-op
  // reaches everyone: the churn that Figure 8's scenario is made of.
  double new_leader_crash = 0.0;
  // How often state machines flush a durable image, and how many entries compaction keeps.
  Micros flush_interval = 200'000;
  uint64_t trailing_entries = 64;
};

// A durable state machine image: the registers after applying everything up to meta.index.
struct Image {
  SnapshotMeta meta;
  std::map<uint32_t, int64_t> registers;
};

struct SimStats {
  uint64_t elections = 0;       // campaigns that raised a term
  uint64_t leader_changes = 0;  // nodes that became leader
  uint64_t crashes = 0;
  uint64_t partitions = 0;  // symmetric and one-way
  uint64_t clogs = 0;
  uint64_t slow_disks = 0;
  uint64_t pauses = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_installed = 0;
  uint64_t compactions = 0;
  uint64_t leader_transfers = 0;            // transfers a leader accepted
  uint64_t leader_transfers_completed = 0;  // ... whose target then won
  uint64_t membership_changes = 0;          // changes a leader accepted
  uint64_t messages = 0;
  uint64_t messages_dropped = 0;
  uint64_t ops_ok = 0;
  uint64_t reads_log = 0;    // answered reads that went through the log
  uint64_t reads_index = 0;  // ... confirmed by ReadIndex (leader or follower)
  uint64_t reads_lease = 0;  // ... served on the leader's lease
  uint64_t ops_unknown = 0;
  uint64_t entries_committed = 0;
  uint64_t events = 0;
  Micros virtual_time = 0;

  void add(const SimStats& other);
};

struct SeedResult {
  bool passed = true;
  std::string failure;
  SimStats stats;
};

// Runs one seed to completion. Invariant violations inside the core are reported as failures
// (the simulator installs a check handler), never as a crash.
SeedResult run_seed(const SimOptions& options);

class Simulation {
 public:
  explicit Simulation(const SimOptions& options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  SeedResult run();

 private:
  struct PendingWrite {
    uint64_t write_id;
    std::optional<HardState> hard_state;
    std::vector<Entry> entries;
    std::shared_ptr<const Image> snapshot;  // a leader's image replacing the log
  };
  struct Node {
    NodeId id = kNoNode;
    bool up = true;
    uint64_t incarnation = 0;
    std::unique_ptr<raft::RaftNode> raft;
    // What survives a crash.
    HardState durable_hard_state;
    std::deque<Entry> durable_log;  // entries after durable_log_offset
    Index durable_log_offset = 0;   // compacted or replaced up to here
    Term durable_log_offset_term = 0;
    // The state machine's last flushed (or installed) image; a crash loses applies after it.
    std::shared_ptr<const Image> durable_image;
    std::shared_ptr<const Image> incoming_image;  // came with the kSnapshot being stepped
    // The in-order append worker: writes complete one after another.
    std::deque<PendingWrite> disk_queue;
    Micros disk_free_at = 0;
    Micros slow_disk_until = 0;
    // The state machine is volatile: after a crash it is rebuilt from the log.
    RegisterMachine machine;
    Index applied = 0;
    Term applied_term = 0;  // the state machine knows the term of what it applied last
    // Invariant tracking.
    RaftRole last_role = RaftRole::kFollower;
    Term last_term = 0;
    std::deque<Term> verified_terms;  // log entries already checked for log matching
    Index verified_offset = 0;        // verified_terms[0] is the entry at verified_offset + 1
    Index leader_last_index = 0;      // for leader append-only, within last_term
    Term leader_last_term = 0;
    bool transfer_requested = false;  // this node was named as a transfer target
    Index commits_verified = 0;       // committed prefix compared with the global record
    // Confirmed reads waiting for the state machine to reach their index.
    struct WaitingRead {
      int client_id;
      uint64_t op_uid;
      Index index;
    };
    std::vector<WaitingRead> reads_waiting_apply;
    // A paused node runs nothing until then; its clock keeps going.
    Micros paused_until = 0;
    // Clock rate in parts per million away from real time (kDrift).
    int64_t drift_ppm = 0;

    [[nodiscard]] Index durable_last_index() const {
      return durable_log_offset + durable_log.size();
    }
    [[nodiscard]] Term durable_last_term() const {
      return durable_log.empty() ? durable_log_offset_term : durable_log.back().term;
    }
    // nullopt past the end; indexes at or below the offset are covered by an image.
    [[nodiscard]] std::optional<Term> durable_term_at(Index index) const {
      if (index == durable_log_offset) return durable_log_offset_term;
      if (index < durable_log_offset || index > durable_last_index()) return std::nullopt;
      return durable_log[index - durable_log_offset - 1].term;
    }
  };
  enum class ReadMode : uint8_t { kLog, kReadIndex, kLease };
  struct ClientOp {
    KvOperation record;
    uint64_t op_uid = 0;
    NodeId node = kNoNode;
    Index index = 0;
    uint64_t node_incarnation = 0;
    Micros deadline = 0;
    ReadMode read_mode = ReadMode::kLog;
    bool read_in_flight = false;  // ReadIndex asked, ReadState not yet seen
  };
  struct Client {
    int id = 0;
    std::optional<ClientOp> op;
    NodeId preferred = kNoNode;
    uint64_t seq = 0;
    Micros last_success_call = 0;
    bool succeeded_after_heal = false;
  };
  struct Event {
    Micros at;
    uint64_t seq;
    std::function<void()> action;
    bool operator>(const Event& other) const {
      return at != other.at ? at > other.at : seq > other.seq;
    }
  };
  struct CommittedEntry {
    Term term;
    uint64_t hash;
    Term known_committed_in;  // lowest term in which any node saw it committed
  };
  struct LinkKey {
    NodeId from;
    NodeId to;
    bool operator<(const LinkKey& other) const {
      return from != other.from ? from < other.from : to < other.to;
    }
  };

  // ---- event loop (simulation.cc) ----
  void schedule(Micros delay, std::function<void()> action);
  Node& node(NodeId id) { return nodes_[id - 1]; }
  void start_node(Node& node);
  void crash_node(Node& node);
  void drain(Node& node);
  void persist(Node& node, raft::RaftNode& raft, uint64_t write_id, std::optional<HardState> hs,
               std::vector<Entry> entries, std::shared_ptr<const Image> snapshot);
  void on_disk_done(NodeId id, uint64_t incarnation);
  void apply(Node& node, const std::vector<Entry>& entries);
  void schedule_tick(NodeId id, uint64_t incarnation);
  void flush_state_machines();
  void install_snapshot(Node& node, const std::shared_ptr<const Image>& image);
  void check_state_at(Index index, const std::map<uint32_t, int64_t>& registers, NodeId node);
  void fail(std::string reason);
  void trace(const std::string& line) const;

  // ---- network (sim_network.cc) ----
  void send(Message message);
  void deliver(Message message, std::shared_ptr<const Image> image);
  [[nodiscard]] bool link_cut(NodeId from, NodeId to) const;

  // ---- faults (sim_faults.cc) ----
  void schedule_next_fault();
  void inject_fault();
  void heal_all();

  // ---- clients (sim_clients.cc) ----
  void schedule_client(Client& client, Micros delay);
  void client_issue(int client_id);
  void client_try_propose(int client_id);
  void client_complete(Client& client, bool known, const CommandResult& result);
  void client_forget(Client& client);
  void client_start_read(Client& client, Node& node);
  void on_read_states(Node& node, const Ready& ready);
  void serve_read(Node& node, Client& client);
  void serve_reads_waiting_apply(Node& node);
  void schedule_deadline(Client& client);
  [[nodiscard]] uint64_t node_clock_nanos(const Node& node) const;
  // Runs `action` for `node` now, or when the node resumes if it is paused.
  bool deferred_while_paused(Node& node, const std::function<void()>& action);

  // ---- checks (sim_checks.cc) ----
  void check_node(Node& node);
  void check_log_matching(Node& node);
  void check_leader_completeness(Node& node);
  void record_commits(Node& node);
  void check_final();
  void check_commit_is_safe();
  void check_lease_read(const Node& node);
  static bool vote_is_own(const Node& n);

  [[nodiscard]] NodeId pick_victim();
  void maybe_crash_new_leader(Node& leader);
  void propose_membership_change(Node& leader, std::string* what);
  // The membership `node` acts on once it has applied what it knows committed (from its durable
  // state when it is down: what it will act on after a restart).
  [[nodiscard]] raft::Membership membership_of(const Node& node) const;
  void crash_and_restart_later(Node& victim);

  SimOptions options_;
  Rng rng_;
  SimShape shape_;
  Micros now_ = 0;
  uint64_t event_seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::vector<Node> nodes_;
  std::vector<Client> clients_;
  std::vector<KvOperation> history_;
  SimStats stats_;
  std::optional<std::string> failure_;
  bool faults_active_ = true;
  Micros healed_at_ = 0;

  // Network state.
  double loss_probability_ = 0;
  double duplicate_probability_ = 0;
  double long_delay_probability_ = 0;
  bool reorder_ = false;
  std::map<LinkKey, Micros> cut_until_;           // link cut (partition) until
  std::map<NodeId, Micros> clogged_until_;        // every message to/from is held until
  std::map<LinkKey, Micros> link_last_delivery_;  // FIFO per link unless reordering

  // Global knowledge for the safety checks.
  std::map<Term, NodeId> leader_of_term_;
  std::vector<CommittedEntry> committed_;  // committed_[i] is index i + 1
  struct EntryFingerprint {
    uint64_t hash;
    Term previous_term;
    uint32_t holders;  // live logs holding it; an entry that vanished in a crash is forgotten
  };
  void forget_verified(Node& node, Index index, Term term);
  std::unordered_map<uint64_t, EntryFingerprint> fingerprints_;  // key: index * 2^20 ^ term
  uint64_t next_op_uid_ = 1;
  std::map<Index, uint64_t> state_hash_at_;  // register-map hash after applying up to index
};

uint64_t entry_hash(const Entry& entry);

}  // namespace dengine::sim
