// The core loop and its workers, driven on a manual clock with in-memory stores and the
// in-process transport.

#include <atomic>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/clock.h"
#include "kv/command_codec.h"
#include "kv/memory_kv_store.h"
#include "runtime/raft_runtime.h"
#include "tests/runtime/faulty_state_machine.h"
#include "tests/runtime/runtime_test_util.h"

namespace dengine::runtime {
namespace {

using test::kPatience;

std::string put_command(const std::string& key, const std::string& value) {
  PutRequest put;
  put.key = key;
  put.value = value;
  return kv::encode_command(put).value();
}

// One node: memory log, memory state machine (faults injectable), a runtime.
struct TestNode {
  std::unique_ptr<LogStore> log = make_memory_log_store();
  kv::MemoryKvStore memory{memory_options()};
  test::FaultyStateMachine machine{memory};

  static kv::MemoryKvStoreOptions memory_options() {
    kv::MemoryKvStoreOptions options;
    options.model_durability = false;
    return options;
  }
  std::unique_ptr<RaftRuntime> runtime;

  ~TestNode() { stop(); }
  void stop() {
    if (runtime) runtime->stop();
  }
};

struct Cluster {
  explicit Cluster(std::vector<NodeId> ids, RuntimeOptions options = {}) {
    for (NodeId id : ids) {
      auto node = std::make_unique<TestNode>();
      raft::RaftConfig config;
      config.id = id;
      config.voters = ids;
      config.random_seed = id;
      Result<std::unique_ptr<RaftRuntime>> started = RaftRuntime::start(
          config, raft::RaftBootState{}, *node->log, node->machine, network.transport_for(id),
          clock, CompactionRecord(test::fresh_test_dir(), "compaction"), options);
      EXPECT_TRUE(started) << started.status().to_string();
      node->runtime = std::move(*started);
      RaftRuntime* runtime = node->runtime.get();
      network.attach(id, [runtime](Message message) { runtime->deliver(std::move(message)); });
      nodes[id] = std::move(node);
    }
  }
  ~Cluster() {
    for (auto& [id, node] : nodes) network.detach(id);
  }

  RaftRuntime& runtime(NodeId id) { return *nodes.at(id)->runtime; }

  void stop(NodeId id) {
    network.detach(id);
    nodes.at(id)->stop();
  }

  // Steps the clock a tick at a time until a running node leads with a committed entry of its
  // term. Real time only bounds the wait; the election itself runs on the manual clock.
  NodeId await_leader(NodeId excluding = kNoNode) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < give_up) {
      for (auto& [id, node] : nodes) {
        if (id == excluding) continue;
        NodeStatus status = node->runtime->status();
        if (!status.stopped && status.ready && status.leader == id) return id;
      }
      clock->advance(std::chrono::milliseconds(100));
      for (auto& [id, node] : nodes) {
        if (id == excluding) continue;
        node->runtime->wait_for_status([](const NodeStatus& s) { return s.ready; },
                                       std::chrono::milliseconds(2));
      }
    }
    return kNoNode;
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  LocalNetwork network;
  std::map<NodeId, std::unique_ptr<TestNode>> nodes;
};

Result<ApplyResult> propose_and_wait(RaftRuntime& runtime, std::string command) {
  std::promise<Result<ApplyResult>> answered;
  runtime.propose(std::move(command),
                  [&](Result<ApplyResult> result) { answered.set_value(std::move(result)); });
  return answered.get_future().get();
}

Result<RangeResponse> read_and_wait(RaftRuntime& runtime, const std::string& key) {
  std::promise<Result<RangeResponse>> answered;
  runtime.read(ReadMode::kReadIndex, [&](Result<const StateMachine*> machine) {
    if (!machine) return answered.set_value(machine.status());
    RangeRequest request;
    request.key = key;
    answered.set_value((*machine)->range(request));
  });
  return answered.get_future().get();
}

TEST(Runtime, SoleVoterLeadsWithoutWaitingOutAnElectionTimeout) {
  Cluster cluster({1});
  // The clock never moves: only campaign() at start can have made it leader.
  EXPECT_TRUE(
      cluster.runtime(1).wait_for_status([](const NodeStatus& s) { return s.ready; }, kPatience));
  EXPECT_EQ(cluster.runtime(1).status().role, RaftRole::kLeader);
}

TEST(Runtime, ProposalIsAnsweredWithItsAppliedResult) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  Result<ApplyResult> first = propose_and_wait(cluster.runtime(1), put_command("a", "1"));
  ASSERT_TRUE(first) << first.status().to_string();
  EXPECT_EQ(first->revision, 2);  // etcd: the first write of an empty store makes revision 2
  Result<ApplyResult> second = propose_and_wait(cluster.runtime(1), put_command("a", "2"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->revision, 3);
}

TEST(Runtime, ConcurrentProposalsAreEachAnsweredOnceInLogOrder) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  constexpr int kProposals = 2000;
  std::vector<int64_t> revisions(kProposals, 0);
  std::atomic<int> answered{0};
  std::latch all_answered(kProposals);
  for (int i = 0; i < kProposals; ++i) {
    cluster.runtime(1).propose(put_command("k" + std::to_string(i), "v"),
                               [&, i](Result<ApplyResult> result) {
                                 revisions[i] = result ? result->revision : -1;
                                 answered.fetch_add(1);
                                 all_answered.count_down();
                               });
  }
  all_answered.wait();
  EXPECT_EQ(answered.load(), kProposals);
  std::vector<int64_t> sorted = revisions;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < kProposals; ++i) EXPECT_EQ(sorted[i], i + 2);
  // Group commit: the WAL worker never syncs more often than it persists writes.
  EXPECT_LE(cluster.runtime(1).wal_worker().syncs(), cluster.runtime(1).wal_worker().writes());
}

// ready.h: a write that only moves the commit index needs no disk of its own. A sequential
// writer's commits therefore never reach the WAL worker: one log write per proposal, not two.
TEST(Runtime, ACommitThatOnlyMovesTheCommitIndexCostsNoWalWrite) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  RaftRuntime& runtime = cluster.runtime(1);
  const uint64_t writes_before = runtime.wal_worker().writes();
  constexpr int kProposals = 20;
  for (int i = 0; i < kProposals; ++i) {
    ASSERT_TRUE(propose_and_wait(runtime, put_command("k", std::to_string(i))));
  }
  EXPECT_EQ(runtime.wal_worker().writes() - writes_before, static_cast<uint64_t>(kProposals));
  // The last commit index was held back; a clean stop writes it.
  const Index last = cluster.nodes.at(1)->log->last_index();
  cluster.stop(1);
  EXPECT_EQ(cluster.nodes.at(1)->log->hard_state().commit, last);
}

TEST(Runtime, LinearizableReadSeesEveryAcknowledgedWrite) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  ASSERT_TRUE(propose_and_wait(cluster.runtime(1), put_command("x", "42")));
  Result<RangeResponse> read = read_and_wait(cluster.runtime(1), "x");
  ASSERT_TRUE(read) << read.status().to_string();
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "42");
}

// Keeps the core thread busy in a task of its own until release() (or the end of the scope).
class CoreHold {
 public:
  explicit CoreHold(RaftRuntime& runtime) {
    runtime.run_on_core([this](Result<raft::RaftNode*>) {
      held_.count_down();
      released_.wait();
    });
    held_.wait();
  }
  ~CoreHold() { release(); }
  CoreHold(const CoreHold&) = delete;
  CoreHold& operator=(const CoreHold&) = delete;
  void release() {
    if (!released_.try_wait()) released_.count_down();
  }

 private:
  std::latch held_{1};
  std::latch released_{1};
};

TEST(Runtime, RequestsPastTheInFlightBoundAreRefusedAsOverloaded) {
  RuntimeOptions options;
  options.max_in_flight_requests = 2;
  Cluster cluster({1}, options);
  RaftRuntime& runtime = cluster.runtime(1);
  ASSERT_TRUE(runtime.wait_for_status([](const NodeStatus& s) { return s.ready; }, kPatience));
  // Hold the core thread so that admitted requests stay in flight.
  CoreHold hold(runtime);
  std::latch admitted_answered(2);
  for (int i = 0; i < 2; ++i) {
    runtime.propose(put_command("k", "v"), [&](Result<ApplyResult> result) {
      EXPECT_TRUE(result) << result.status().to_string();
      admitted_answered.count_down();
    });
  }
  Result<ApplyResult> refused = Status::internal("not answered");
  runtime.propose(put_command("k", "v"), [&](Result<ApplyResult> result) { refused = result; });
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("overloaded"), std::string::npos);
  hold.release();
  admitted_answered.wait();
}

// A membership change or a transfer refused before it reaches the core is told why (here the
// in-flight bound), not that the engine stopped.
TEST(Runtime, RefusedMembershipChangeAndTransferReportTheAdmissionsReason) {
  RuntimeOptions options;
  options.max_in_flight_requests = 1;
  Cluster cluster({1}, options);
  RaftRuntime& runtime = cluster.runtime(1);
  ASSERT_TRUE(runtime.wait_for_status([](const NodeStatus& s) { return s.ready; }, kPatience));
  // Hold the core thread, so that the one request allowed in flight stays queued.
  CoreHold hold(runtime);
  std::latch admitted_answered(1);
  runtime.propose(put_command("k", "v"),
                  [&](Result<ApplyResult>) { admitted_answered.count_down(); });
  Result<Index> changed = Status::internal("not answered");
  runtime.change_membership({ConfChange{.op = ConfChangeOp::kAddLearner, .node = 2}},
                            [&](Result<Index> result) { changed = std::move(result); });
  Status transferred = Status::internal("not answered");
  runtime.transfer_leadership(2, [&](Status result) { transferred = std::move(result); });
  hold.release();
  EXPECT_EQ(changed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(changed.status().message().find("overloaded"), std::string::npos);
  EXPECT_EQ(transferred.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(transferred.message().find("overloaded"), std::string::npos);
  admitted_answered.wait();
}

TEST(Runtime, StopAnswersEveryRequestAndRefusesLaterOnes) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  RaftRuntime& runtime = cluster.runtime(1);
  constexpr int kProposals = 500;
  std::atomic<int> answered{0};
  std::latch all_answered(kProposals);
  for (int i = 0; i < kProposals; ++i) {
    runtime.propose(put_command("k", "v"), [&](Result<ApplyResult>) {
      answered.fetch_add(1);
      all_answered.count_down();
    });
  }
  cluster.stop(1);
  all_answered.wait();  // every one answered: applied, or refused because the node stopped
  EXPECT_EQ(answered.load(), kProposals);
  Result<ApplyResult> late = propose_and_wait(runtime, put_command("k", "v"));
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(runtime.status().stopped);
}

// docs/architecture.md §2: an entry is applied exactly once, in order, and never skipped. A batch
// whose write fails is not applied; the node stops, and the batch's callers learn that it did.
TEST(Runtime, AFailedGroupWriteStopsTheNodeAndAnswersItsCallers) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  RaftRuntime& runtime = cluster.runtime(1);
  ASSERT_TRUE(propose_and_wait(runtime, put_command("before", "1")));
  cluster.nodes.at(1)->machine.fail_group_writes("disk full");
  Result<ApplyResult> failed = propose_and_wait(runtime, put_command("after", "2"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("engine stopped"), std::string::npos)
      << failed.status().to_string();
  EXPECT_NE(failed.status().message().find("injected: disk full"), std::string::npos)
      << failed.status().to_string();
  ASSERT_TRUE(runtime.wait_for_status([](const NodeStatus& s) { return s.stopped; }, kPatience));
  const NodeStatus status = runtime.status();
  EXPECT_EQ(status.fatal.code(), StatusCode::kIoError) << status.fatal.to_string();
  EXPECT_NE(status.fatal.message().find("apply worker: writing entries"), std::string::npos)
      << status.fatal.to_string();
  // Later callers are refused, and told why.
  Result<ApplyResult> late = propose_and_wait(runtime, put_command("later", "3"));
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("injected: disk full"), std::string::npos)
      << late.status().to_string();
}

TEST(Runtime, AnEntryThatCannotBeAppliedStopsTheNodeRatherThanBeSkipped) {
  Cluster cluster({1});
  ASSERT_EQ(cluster.await_leader(), 1u);
  RaftRuntime& runtime = cluster.runtime(1);
  ASSERT_TRUE(propose_and_wait(runtime, put_command("a", "1")));
  const Index next = cluster.nodes.at(1)->log->last_index() + 1;
  cluster.nodes.at(1)->machine.fail_apply_at(next);
  Result<ApplyResult> failed = propose_and_wait(runtime, put_command("b", "2"));
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.status().message().find("entry " + std::to_string(next) + " cannot be applied"),
            std::string::npos)
      << failed.status().to_string();
  ASSERT_TRUE(runtime.wait_for_status([](const NodeStatus& s) { return s.stopped; }, kPatience));
  EXPECT_EQ(runtime.status().fatal.code(), StatusCode::kCorruption);
  // Nothing after the entry was applied either.
  EXPECT_EQ(cluster.nodes.at(1)->memory.applied_index(), next - 1);
}

// The failed write was committed on a quorum before the leader tried to apply it: the other
// members apply it, and a new leader serves it. Its caller was told only that the engine
// stopped (the outcome is unknown to it, as with any write whose leader fails).
TEST(Runtime, AWriteWhoseLeaderFailedToApplyItIsAppliedByTheOthers) {
  Cluster cluster({1, 2, 3});
  const NodeId leader = cluster.await_leader();
  ASSERT_NE(leader, kNoNode);
  cluster.nodes.at(leader)->machine.fail_group_writes("write batch refused");
  Result<ApplyResult> failed = propose_and_wait(cluster.runtime(leader), put_command("k", "v"));
  ASSERT_FALSE(failed);
  ASSERT_TRUE(cluster.runtime(leader).wait_for_status([](const NodeStatus& s) { return s.stopped; },
                                                      kPatience));
  cluster.stop(leader);
  const NodeId successor = cluster.await_leader(leader);
  ASSERT_NE(successor, kNoNode);
  Result<RangeResponse> read = read_and_wait(cluster.runtime(successor), "k");
  ASSERT_TRUE(read) << read.status().to_string();
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "v");
}

TEST(Runtime, ThreeNodesElectOnTheManualClockAndReplicate) {
  Cluster cluster({1, 2, 3});
  const NodeId leader = cluster.await_leader();
  ASSERT_NE(leader, kNoNode);
  Result<ApplyResult> put = propose_and_wait(cluster.runtime(leader), put_command("k", "v"));
  ASSERT_TRUE(put) << put.status().to_string();
  // ReadIndex through a follower (thesis §6.4): it asks the leader, then waits to apply.
  const NodeId follower = leader == 1 ? 2 : 1;
  Result<RangeResponse> read = read_and_wait(cluster.runtime(follower), "k");
  ASSERT_TRUE(read) << read.status().to_string();
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "v");
}

TEST(Runtime, ANewLeaderTakesOverWhenTheLeaderStops) {
  Cluster cluster({1, 2, 3});
  const NodeId first = cluster.await_leader();
  ASSERT_NE(first, kNoNode);
  ASSERT_TRUE(propose_and_wait(cluster.runtime(first), put_command("before", "1")));
  cluster.stop(first);
  const NodeId second = cluster.await_leader(first);
  ASSERT_NE(second, kNoNode);
  ASSERT_NE(second, first);
  ASSERT_TRUE(propose_and_wait(cluster.runtime(second), put_command("after", "2")));
  Result<RangeResponse> read = read_and_wait(cluster.runtime(second), "before");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->kvs.size(), 1u);  // committed before the stop: never lost
}

}  // namespace
}  // namespace dengine::runtime
