// Micro-benchmarks of the pure Raft core (src/raft/): how many entries per second a leader of a
// three-node group can propose, replicate, commit and apply when storage and network cost
// nothing. Every Ready is "persisted" at once and every message is delivered in process, so the
// numbers are the core's own CPU cost (step, take_ready, the log's copies), an upper bound that a
// runtime with real fsyncs and sockets can only approach.
//
//   BM_ThreeNodeReplicationRoundTrip/batch:B  all three nodes, one full round trip per batch
//   BM_LeaderHandlesAppendsAndAcks/batch:B    the leader alone, follower acks built by hand
//   BM_ReadIndexBatched/reads:R               R linearizable reads confirmed by one heartbeat
//                                             round of the three-node group (thesis §6.4)
//   BM_LeaseRead                              a lease read on a leader with a valid lease
//
// The log is held in memory and never compacted (there are no snapshots yet), so a fresh group
// is elected, outside the timed region, whenever the leader's log reaches kMaxLogEntries. That
// bounds memory and keeps the log's length from drifting with the iteration count.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "dengine/entry.h"
#include "dengine/types.h"
#include "raft/raft_config.h"
#include "raft/raft_message.h"
#include "raft/raft_node.h"
#include "raft/ready.h"

namespace {

using dengine::Index;
using dengine::Message;
using dengine::MessageType;
using dengine::NodeId;
using dengine::RaftRole;
using dengine::Ready;
using dengine::raft::RaftBootState;
using dengine::raft::RaftConfig;
using dengine::raft::RaftNode;

constexpr size_t kPayloadBytes = 64;
constexpr Index kMaxLogEntries = Index{1} << 16;
constexpr NodeId kLeader = 1;
constexpr int kMaxTicksToCampaign = 1000;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "raft_bench: %s\n", why.c_str());
  std::abort();
}

// Library defaults (pre-vote, check-quorum, 256-message window, 1 MiB appends), fixed seed.
std::unique_ptr<RaftNode> make_node(NodeId id) {
  RaftConfig config;
  config.id = id;
  config.voters = {1, 2, 3};
  config.random_seed = 42;
  config.lease_duration_nanos = uint64_t{1} << 62;  // never expires within a benchmark
  auto node = RaftNode::create(std::move(config), RaftBootState{});
  if (!node) fail("cannot create node " + std::to_string(id) + ": " + node.status().to_string());
  return std::move(node).value();
}

void propose_or_die(RaftNode& leader, const std::string& payload) {
  auto index = leader.propose(payload);  // copies the payload, as a caller handing it over would
  if (!index) fail("proposal refused: " + index.status().to_string());
}

// Nodes 1, 2 and 3 with instant storage and a lossless in-order network, node 1 elected.
class Group {
 public:
  Group() {
    for (NodeId id = 1; id <= nodes_.size(); ++id) nodes_[id - 1] = make_node(id);
    elect_node_1();
  }

  RaftNode& node(NodeId id) { return *nodes_[id - 1]; }
  RaftNode& leader() { return node(kLeader); }
  [[nodiscard]] uint64_t messages_delivered() const { return messages_delivered_; }
  [[nodiscard]] uint64_t reads_confirmed() const { return reads_confirmed_; }

  // Round after round, every node's Readies are persisted and applied at once and their messages
  // delivered, until no node has anything left to do.
  void run_until_quiet() {
    for (;;) {
      for (auto& node : nodes_) {
        while (node->has_ready()) handle_ready(*node);
      }
      if (outgoing_.empty()) return;
      std::swap(outgoing_, delivering_);  // both keep their capacity from round to round
      for (const Message& message : delivering_) node(message.to).step(message);
      messages_delivered_ += delivering_.size();
      delivering_.clear();
    }
  }

 private:
  // Only node 1 ticks, so it is the only one that campaigns; it wins on the first try.
  void elect_node_1() {
    for (int ticks = 0; leader().role() == RaftRole::kFollower; ++ticks) {
      if (ticks == kMaxTicksToCampaign) fail("node 1 never campaigned");
      leader().tick();
    }
    run_until_quiet();
    if (leader().role() != RaftRole::kLeader) fail("node 1 did not win the election");
    for (auto& node : nodes_) {
      if (node->log().committed() != leader().log().last_index()) {
        fail("node " + std::to_string(node->id()) + " did not commit the leader's no-op");
      }
    }
    messages_delivered_ = 0;
  }

  // The Ready contract (raft/ready.h), with storage and the state machine taking no time.
  void handle_ready(RaftNode& node) {
    Ready ready = node.take_ready();
    if (ready.has_storage_work()) node.on_persisted(ready.write_id);
    if (!ready.committed_entries.empty()) node.on_applied(ready.committed_entries.back().index);
    for (Message& message : ready.messages) outgoing_.push_back(std::move(message));
    reads_confirmed_ += ready.read_states.size();
  }

  std::array<std::unique_ptr<RaftNode>, 3> nodes_;
  std::vector<Message> outgoing_;
  std::vector<Message> delivering_;
  uint64_t messages_delivered_ = 0;
  uint64_t reads_confirmed_ = 0;
};

void report_entries(benchmark::State& state, size_t batch) {
  const auto entries = static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch);
  state.SetItemsProcessed(entries);
  state.SetBytesProcessed(entries * static_cast<int64_t>(kPayloadBytes));
}

// One batch of B proposals on the leader, then everything it causes on all three nodes: the
// leader's Ready (its own append, one kAppend per follower), the followers' appends and acks,
// the commit, a kAppend per follower carrying the new commit index and its ack, and every
// node applying the batch. An iteration ends when the group is quiet.
void BM_ThreeNodeReplicationRoundTrip(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  const std::string payload(kPayloadBytes, 'x');
  auto group = std::make_unique<Group>();
  uint64_t messages = 0;
  for (auto _ : state) {
    if (group->leader().log().last_index() >= kMaxLogEntries) {
      state.PauseTiming();
      messages += group->messages_delivered();
      group = std::make_unique<Group>();
      state.ResumeTiming();
    }
    for (size_t i = 0; i < batch; ++i) propose_or_die(group->leader(), payload);
    group->run_until_quiet();
  }
  messages += group->messages_delivered();
  for (NodeId id = 1; id <= 3; ++id) {
    if (group->node(id).log().applied() != group->leader().log().last_index()) {
      state.SkipWithError("a follower did not apply every batch");
    }
  }
  report_entries(state, batch);
  state.counters["msgs_per_batch"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kAvgIterations);
}

// The leader's share of the same work, with the followers replaced by hand-built acks: propose B
// entries, take the Ready (its append and the two kAppends), report it durable, step one
// kAppendResponse from each follower (the first commits the batch), take the commit Ready and
// report it durable and applied. The messages the leader sends are dropped.
void BM_LeaderHandlesAppendsAndAcks(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  const std::string payload(kPayloadBytes, 'x');
  auto group = std::make_unique<Group>();
  RaftNode* leader = &group->leader();
  std::array<Message, 2> acks{};
  for (NodeId follower = 2; follower <= 3; ++follower) {
    Message& ack = acks[follower - 2];
    ack.type = MessageType::kAppendResponse;
    ack.from = follower;
    ack.to = kLeader;
  }
  for (auto _ : state) {
    if (leader->log().last_index() >= kMaxLogEntries) {
      state.PauseTiming();
      group = std::make_unique<Group>();
      leader = &group->leader();
      state.ResumeTiming();
    }
    for (size_t i = 0; i < batch; ++i) propose_or_die(*leader, payload);
    Ready append = leader->take_ready();
    leader->on_persisted(append.write_id);
    for (Message& ack : acks) {
      ack.term = leader->term();
      ack.index = leader->log().last_index();
      leader->step(ack);
    }
    Ready commit = leader->take_ready();
    if (commit.has_storage_work()) leader->on_persisted(commit.write_id);
    if (!commit.committed_entries.empty()) {
      leader->on_applied(commit.committed_entries.back().index);
    }
  }
  if (leader->log().applied() != leader->log().last_index()) {
    state.SkipWithError("the leader did not apply every batch");
  }
  report_entries(state, batch);
}

// Each runs for libbenchmark's default --benchmark_min_time of 0.5 s (not set here with
// MinTime(), which would add "/min_time:0.500" to the names). With the reset at kMaxLogEntries
// the memory held stays a few tens of MiB whatever the iteration count.
BENCHMARK(BM_ThreeNodeReplicationRoundTrip)->ArgName("batch")->Arg(1)->Arg(16)->Arg(128);
// R reads arrive at the leader before one Ready: they share one heartbeat round, and the group
// runs until the round's answers have confirmed all of them (ReadStates in the leader's Ready).
void BM_ReadIndexBatched(benchmark::State& state) {
  const auto reads = static_cast<uint64_t>(state.range(0));
  Group group;
  uint64_t request_id = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < reads; ++i) {
      if (!group.leader().read_index(++request_id)) fail("read_index refused");
    }
    group.run_until_quiet();
  }
  if (group.reads_confirmed() != request_id) {
    state.SkipWithError("not every read was confirmed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(group.reads_confirmed()));
  state.counters["msgs_per_round"] = benchmark::Counter(
      static_cast<double>(group.messages_delivered()), benchmark::Counter::kAvgIterations);
}

// With a lease confirmed by one heartbeat round, a read costs one clock comparison.
void BM_LeaseRead(benchmark::State& state) {
  Group group;
  group.leader().observe_clock(1);
  if (!group.leader().read_index(1)) fail("read_index refused");
  group.run_until_quiet();  // the round that confirms the read also starts the lease
  uint64_t now = 2;
  for (auto _ : state) {
    auto index = group.leader().lease_read(++now);
    if (!index) fail("lease read refused: " + index.status().to_string());
    benchmark::DoNotOptimize(index);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_LeaderHandlesAppendsAndAcks)->ArgName("batch")->Arg(1)->Arg(16)->Arg(128);

}  // namespace
BENCHMARK(BM_ReadIndexBatched)->ArgName("reads")->Arg(1)->Arg(64);
BENCHMARK(BM_LeaseRead);
