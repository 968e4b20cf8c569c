#pragma once

// Small builders for the Raft core's unit tests: a config builder, a node builder that can
// recover a log and hard state, message helpers, and a TestNetwork that drives several
// RaftNodes through their Ready contract (raft/ready.h) with no threads and no clock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "raft/raft_config.h"
#include "raft/raft_message.h"
#include "raft/raft_node.h"
#include "raft/ready.h"

namespace dengine {
// Readable names in gtest failure messages.
void PrintTo(RaftRole role, std::ostream* os);
void PrintTo(MessageType type, std::ostream* os);
void PrintTo(const ReadState& read, std::ostream* os);
void PrintTo(StatusCode code, std::ostream* os);
namespace raft {
void PrintTo(Progress::State state, std::ostream* os);
}  // namespace raft
}  // namespace dengine

namespace dengine::raft::test {

inline constexpr int kElectionTimeoutTicks = 10;
inline constexpr int kHeartbeatTicks = 1;

// A RaftConfig with the tests' defaults: election timeout 10 ticks, heartbeat 1 tick, pre-vote
// and check-quorum on, a fixed seed.
class ConfigBuilder {
 public:
  ConfigBuilder(NodeId id, std::vector<NodeId> voters);

  ConfigBuilder& pre_vote(bool on);
  ConfigBuilder& check_quorum(bool on);
  ConfigBuilder& seed(uint64_t seed);
  ConfigBuilder& election_timeout_ticks(int ticks);
  ConfigBuilder& heartbeat_interval_ticks(int ticks);
  ConfigBuilder& max_inflight(size_t messages, uint64_t bytes);
  ConfigBuilder& max_append_bytes(uint64_t bytes);
  ConfigBuilder& max_uncommitted_bytes(uint64_t bytes);
  ConfigBuilder& max_entry_bytes(uint64_t bytes);
  ConfigBuilder& lease_duration_nanos(uint64_t nanos);
  ConfigBuilder& max_pending_reads(size_t reads);
  ConfigBuilder& max_heartbeat_rounds(size_t rounds);
  ConfigBuilder& compaction_trailing_entries(uint64_t entries);

  [[nodiscard]] RaftConfig build() const { return config_; }

 private:
  RaftConfig config_;
};

// "prefix" followed by n, for entry data (spelled so g++ 12 raises no -Wrestrict false alarm).
std::string numbered(const char* prefix, uint64_t n);

// Entries 1..n whose terms are `terms` (the way the paper's figures draw logs).
std::vector<Entry> log_with_terms(const std::vector<Term>& terms);
// The terms of a node's log, for comparing with the figures.
std::vector<Term> terms_of(const RaftLog& log);

// A RaftNode, optionally recovered from a log and hard state (as if read back from storage).
class NodeBuilder {
 public:
  explicit NodeBuilder(RaftConfig config) : config_(std::move(config)) {}

  // Recovered log; without an explicit hard_state the term is the log's last term. The
  // entries follow the snapshot, if any (index 1 without one).
  NodeBuilder& log_terms(const std::vector<Term>& terms);
  // Recovered state machine image the log was compacted behind.
  NodeBuilder& snapshot(SnapshotMeta snapshot);
  NodeBuilder& hard_state(Term term, NodeId vote = kNoNode, Index commit = 0);
  NodeBuilder& applied(Index index);

  // Fails the test (by throwing) if the core refuses the config or boot state.
  [[nodiscard]] std::unique_ptr<RaftNode> build() const;

 private:
  RaftConfig config_;
  std::vector<Entry> entries_;
  std::optional<HardState> hard_state_;
  SnapshotMeta snapshot_;
  Index applied_ = 0;
};

// ---- messages a test sends by hand ----
Message vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term);
Message pre_vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term);
Message vote_response(NodeId from, NodeId to, Term term, bool granted);
Message pre_vote_response(NodeId from, NodeId to, Term term, bool granted);
Message append(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
               std::vector<Entry> entries, Index commit);
Message heartbeat(NodeId from, NodeId to, Term term, Index commit);
// A follower's answer to the leader's heartbeat round `round` (Message::context).
Message heartbeat_response(NodeId from, NodeId to, Term term, uint64_t round);
// A follower's acknowledgement of the leader's log up to `index`.
Message append_response(NodeId from, NodeId to, Term term, Index index);

// Everything a lone node has to say: takes every Ready, reports each write durable at once and
// each committed entry applied, and returns the messages in order.
std::vector<Message> drain_messages(RaftNode& node);
// The same, with the reads the node answered.
struct Drained {
  std::vector<Message> messages;
  std::vector<ReadState> read_states;
  std::vector<uint64_t> aborted_reads;
};
Drained drain_node(RaftNode& node);
// Messages of `type` among `messages`.
std::vector<Message> of_type(const std::vector<Message>& messages, MessageType type);

// Plays the other voters for a lone `node`: ticks it until it campaigns, grants its pre-vote
// and vote, and drains it. The node leads afterwards, its no-op durable but not committed.
void win_election_by_hand(RaftNode& node);
// `followers` acknowledge the leader's whole log; drains the leader.
void acknowledge_log_by_hand(RaftNode& leader, const std::vector<NodeId>& followers);

// While alive, a failed DENGINE_CHECK throws CheckFailure instead of aborting, so a test can
// show that an invariant check fires.
struct CheckFailure {
  std::string condition;
};
class ScopedThrowingCheckHandler {
 public:
  ScopedThrowingCheckHandler();
  ~ScopedThrowingCheckHandler();
  ScopedThrowingCheckHandler(const ScopedThrowingCheckHandler&) = delete;
  ScopedThrowingCheckHandler& operator=(const ScopedThrowingCheckHandler&) = delete;

 private:
  CheckFailureHandler previous_;
};

// Several RaftNodes joined by a lossless FIFO network under the test's control.
class TestNetwork {
 public:
  // Nodes 1..n, all voters, built from ConfigBuilder defaults after `tweak`.
  explicit TestNetwork(size_t n, const std::function<void(ConfigBuilder&)>& tweak = {});
  explicit TestNetwork(std::vector<std::unique_ptr<RaftNode>> nodes);

  RaftNode& node(NodeId id);
  [[nodiscard]] std::vector<NodeId> ids() const;

  // ---- storage ----
  // Deferred: writes stay pending until persist(id); otherwise on_persisted follows each Ready.
  void set_deferred_persistence(NodeId id, bool deferred);
  // Reports every write handed out so far by `id` as durable.
  void persist(NodeId id);
  // Entries each node applied, in the order Readies delivered them.
  [[nodiscard]] const std::vector<Entry>& applied(NodeId id) const;
  // Reads each node confirmed (Ready::read_states) and aborted (Ready::aborted_reads).
  [[nodiscard]] const std::vector<ReadState>& read_states(NodeId id) const;
  [[nodiscard]] const std::vector<uint64_t>& aborted_reads(NodeId id) const;

  // ---- Ready ----
  // Takes `id`'s Readies until it has none: persists (unless deferred), applies committed
  // entries, queues outgoing messages. Returns the Readies for inspection.
  std::vector<Ready> drain(NodeId id);
  void drain_all();

  // ---- messages ----
  // Drains every node and delivers queued messages, round after round, until none is left.
  void deliver_all();
  // Messages queued but not yet delivered.
  [[nodiscard]] const std::deque<Message>& queued() const { return queue_; }
  // Every message any node sent since the network was built (or clear_sent()).
  [[nodiscard]] const std::vector<Message>& sent() const { return sent_; }
  void clear_sent() { sent_.clear(); }
  size_t count_sent(const std::function<bool(const Message&)>& predicate) const;

  // ---- faults ----
  void cut(NodeId a, NodeId b);  // drop messages both ways
  void isolate(NodeId id);
  void heal();  // restore every link and clear drop_if
  // Drop any message for which `predicate` holds (in addition to cut links).
  void drop_if(std::function<bool(const Message&)> predicate) { drop_if_ = std::move(predicate); }

  // ---- clock ----
  // Ticks `id` `times` times, draining it after each tick (messages are queued, not delivered).
  void tick(NodeId id, int times = 1);
  // Ticks `id` until it leaves the follower role; returns the number of ticks it took.
  int tick_until_campaign(NodeId id);
  // `ticks` times: every node ticks once, then messages are delivered until none is left.
  void advance(int ticks);
  // Campaigns with `id` and delivers until the cluster is quiet; `id` must end up leader.
  void elect(NodeId id);

 private:
  struct Peer {
    std::unique_ptr<RaftNode> node;
    bool deferred = false;
    uint64_t last_write_id = 0;
    std::vector<Entry> applied;
    std::vector<ReadState> read_states;
    std::vector<uint64_t> aborted_reads;
  };
  Peer& peer(NodeId id);
  [[nodiscard]] bool dropped(const Message& message) const;

  std::map<NodeId, Peer> peers_;
  std::deque<Message> queue_;
  std::vector<Message> sent_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  std::function<bool(const Message&)> drop_if_;
};

}  // namespace dengine::raft::test
