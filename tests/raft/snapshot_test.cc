// Log compaction and InstallSnapshot (Raft §7): the log is discarded behind a durable state
// machine image, and followers that need discarded entries are sent the image instead.

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr int kEt = kElectionTimeoutTicks;

// An image of the state machine through `index` (its configuration is left to the node's).
SnapshotMeta image(Index index, Term term) {
  SnapshotMeta snapshot;
  snapshot.index = index;
  snapshot.term = term;
  return snapshot;
}

Message install_snapshot(NodeId from, NodeId to, Term term, const SnapshotMeta& snapshot) {
  Message message{.type = MessageType::kSnapshot,
                  .from = from,
                  .to = to,
                  .term = term,
                  .index = snapshot.index,
                  .log_term = snapshot.term};
  message.snapshot = snapshot;
  return message;
}

bool is_snapshot_to_3(const Message& m) {
  return m.type == MessageType::kSnapshot && m.to == 3;
}

// Nodes 1..3 with node 1 leading in term 1. Node 3 holds only the no-op (index 1); it missed
// entries 2..6, and node 1 compacted its log through 6 behind an image there. Links are healed;
// only node 1 ticks in these tests.
TestNetwork cluster_with_follower_behind_compaction() {
  TestNetwork net(3, [](ConfigBuilder& b) { b.compaction_trailing_entries(0); });
  net.elect(1);
  net.isolate(3);
  for (int i = 0; i < 5; ++i) {
    if (!net.node(1).propose(numbered("x", i)).has_value()) throw std::runtime_error("propose");
  }
  net.deliver_all();
  net.node(1).on_snapshot_ready(image(6, 1));
  net.drain_all();
  net.heal();
  if (net.node(1).log().first_index() != 7) throw std::runtime_error("log not compacted");
  return net;
}

// The leader's next heartbeat finds node 3 behind; the kSnapshot it provokes is dropped.
void send_snapshot_to_3_and_drop_it(TestNetwork& net) {
  net.drop_if(is_snapshot_to_3);
  net.tick(1);
  net.deliver_all();
}

// ---- compaction ----

// Raft §7: once the state machine holds a durable image, the log behind it may go, but
// compaction_trailing_entries stay for followers that are only slightly behind.
TEST(RaftSnapshot, SnapshotCompactsLogKeepingTrailingEntries) {
  TestNetwork net(1, [](ConfigBuilder& b) { b.compaction_trailing_entries(3); });
  net.elect(1);
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(net.node(1).propose(numbered("x", i)).has_value());
  net.deliver_all();
  ASSERT_EQ(net.node(1).log().applied(), 10U);

  net.node(1).on_snapshot_ready(image(10, 1));
  const std::vector<Ready> readies = net.drain(1);
  ASSERT_EQ(readies.size(), 1U);
  EXPECT_EQ(readies[0].compact_to, 7U) << "the store may discard entries 1..7";
  EXPECT_EQ(net.node(1).log().first_index(), 8U);
  EXPECT_EQ(net.node(1).log().last_index(), 10U);
  EXPECT_EQ(net.node(1).log().term_at(7), 1U) << "the term at the compaction point is kept";
}

// raft_node.h: compaction stops at what the state machine's own image covers; entries the
// log has handed to storage but not yet made durable (nor applied) stay in the log.
TEST(RaftSnapshot, CompactionNeverPassesDurableAppliedEntries) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.compaction_trailing_entries(0); });
  net.elect(1);
  net.set_deferred_persistence(1, true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.node(1).propose(numbered("x", i)).has_value());
  net.deliver_all();
  const RaftLog& log = net.node(1).log();
  ASSERT_EQ(log.committed(), 4U) << "the followers form a quorum";
  ASSERT_EQ(log.stable(), 1U);
  ASSERT_EQ(log.applied(), 1U);

  net.node(1).on_snapshot_ready(image(1, 1));
  const std::vector<Ready> readies = net.drain(1);
  ASSERT_EQ(readies.size(), 1U);
  EXPECT_EQ(readies[0].compact_to, 1U);
  EXPECT_EQ(log.first_index(), 2U);
  EXPECT_EQ(log.last_index(), 4U) << "entries not yet durable stay";
}

// raft_node.h: an image must not claim more than the state machine applied; the check fires.
TEST(RaftSnapshot, SnapshotPastAppliedIndexFailsCheck) {
  ScopedThrowingCheckHandler throwing;
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 1, 1})
                  .hard_state(1, kNoNode, 3)
                  .applied(1)
                  .build();
  EXPECT_THROW(node->on_snapshot_ready(image(2, 1)), CheckFailure);
  EXPECT_NO_THROW(node->on_snapshot_ready(image(1, 1)));
}

// ---- the leader sends the image ----

// Raft §7: "the leader must occasionally send snapshots to followers that lag behind" — when
// the entries a follower needs were discarded.
TEST(RaftSnapshot, FollowerBehindCompactionPointIsSentSnapshot) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  ASSERT_EQ(net.count_sent(is_snapshot_to_3), 1U);
  const std::vector<Message> snapshots = of_type(net.sent(), MessageType::kSnapshot);
  EXPECT_EQ(snapshots.back().snapshot, image(6, 1));
  EXPECT_EQ(net.node(1).progress_of(3)->state(), Progress::State::kSnapshot);
}

// Raft §7 / etcd-raft's snapshot state: while the image is on its way the follower is sent no
// appends (they could not match before it is installed).
TEST(RaftSnapshot, LeaderSendsNoAppendsWhileFollowerAwaitsSnapshot) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  net.clear_sent();
  ASSERT_TRUE(net.node(1).propose("y").has_value());
  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(
      net.count_sent([](const Message& m) { return m.type == MessageType::kAppend && m.to == 3; }),
      0U);
  EXPECT_EQ(net.node(1).log().committed(), 7U) << "node 2 still replicates";
}

// Raft §7: the receiver discards its log and installs the image: the Ready carries the
// snapshot as a storage write, and the log restarts after it, committed through it.
TEST(RaftSnapshot, FollowerRestoresLogFromSnapshot) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  net.node(3).step(of_type(net.sent(), MessageType::kSnapshot).back());
  const std::vector<Ready> readies = net.drain(3);
  ASSERT_FALSE(readies.empty());
  ASSERT_TRUE(readies[0].snapshot.has_value());
  EXPECT_EQ(readies[0].snapshot->index, 6U);
  EXPECT_NE(readies[0].write_id, 0U) << "installing the image is a storage write";
  EXPECT_TRUE(readies[0].committed_entries.empty());
  EXPECT_EQ(net.node(3).log().first_index(), 7U);
  EXPECT_EQ(net.node(3).log().last_index(), 6U);
  EXPECT_EQ(net.node(3).log().committed(), 6U);
}

// Raft Figure 2 ("respond to RPCs" only after updating stable storage): the follower
// acknowledges the image only once its write is durable.
TEST(RaftSnapshot, FollowerAcknowledgesSnapshotOnlyOnceDurable) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  net.set_deferred_persistence(3, true);
  net.node(3).step(of_type(net.sent(), MessageType::kSnapshot).back());
  std::vector<Ready> readies = net.drain(3);
  ASSERT_EQ(readies.size(), 1U);
  EXPECT_TRUE(of_type(readies[0].messages, MessageType::kAppendResponse).empty());

  net.persist(3);
  readies = net.drain(3);
  ASSERT_EQ(readies.size(), 1U);
  const std::vector<Message> acks = of_type(readies[0].messages, MessageType::kAppendResponse);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_FALSE(acks[0].reject);
  EXPECT_EQ(acks[0].index, 6U);
}

// Ready contract (raft/ready.h, step 0): the image stands for everything up to its index;
// nothing at or below it is applied again, and replication resumes after it.
TEST(RaftSnapshot, FollowerNeverAppliesEntriesCoveredBySnapshot) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  const size_t applied_before = net.applied(3).size();
  net.tick(1);
  net.deliver_all();
  ASSERT_EQ(net.node(1).progress_of(3)->state(), Progress::State::kReplicate);
  ASSERT_TRUE(net.node(1).propose("y").has_value());
  net.deliver_all();
  net.tick(1);  // the heartbeat carries the commit index of "y"
  net.deliver_all();

  const std::vector<Entry>& applied = net.applied(3);
  ASSERT_GT(applied.size(), applied_before);
  for (size_t i = applied_before; i < applied.size(); ++i) EXPECT_GT(applied[i].index, 6U);
  EXPECT_EQ(applied.back().data, "y");
}

// ---- the follower's answer ----

// Raft §7: "If existing log entry has same index and term as snapshot's last included entry,
// retain log entries following it and reply" — the image only proves them committed.
TEST(RaftSnapshot, SnapshotMatchingFollowerLogOnlyAdvancesCommit) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 1, 1, 1, 1})
                  .hard_state(1, kNoNode, 1)
                  .build();
  node->step(install_snapshot(2, 1, 1, image(3, 1)));
  EXPECT_EQ(node->log().committed(), 3U);
  EXPECT_EQ(node->log().first_index(), 1U);
  EXPECT_EQ(node->log().last_index(), 5U);
  Ready ready = node->take_ready();
  EXPECT_FALSE(ready.snapshot.has_value());
  node->on_persisted(ready.write_id);
  const std::vector<Message> acks = of_type(drain_messages(*node), MessageType::kAppendResponse);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].index, 3U);
}

// Raft §7: an image the follower's committed log already covers changes nothing; its answer
// names the follower's commit index, so the leader resumes from there.
TEST(RaftSnapshot, SnapshotAtOrBelowFollowerCommitIsAnsweredWithCommitIndex) {
  for (Index at : {3U, 4U}) {
    SCOPED_TRACE("snapshot at " + std::to_string(at));
    auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                    .log_terms({1, 1, 1, 1, 1})
                    .hard_state(1, kNoNode, 4)
                    .build();
    node->step(install_snapshot(2, 1, 1, image(at, 1)));
    EXPECT_EQ(node->log().committed(), 4U);
    EXPECT_EQ(node->log().first_index(), 1U);
    EXPECT_EQ(node->log().last_index(), 5U);
    const std::vector<Message> acks = of_type(drain_messages(*node), MessageType::kAppendResponse);
    ASSERT_EQ(acks.size(), 1U);
    EXPECT_FALSE(acks[0].reject);
    EXPECT_EQ(acks[0].index, 4U);
  }
}

// ---- lost snapshots ----

// The image or its answer may be lost: after an election timeout's worth of heartbeat answers
// without the follower catching up, the leader sends the image again.
TEST(RaftSnapshot, LeaderResendsSnapshotAfterElectionTimeoutOfHeartbeatAnswers) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  ASSERT_EQ(net.count_sent(is_snapshot_to_3), 1U);
  for (int i = 0; i < kEt; ++i) {
    net.tick(1);
    net.deliver_all();
  }
  EXPECT_EQ(net.count_sent(is_snapshot_to_3), 1U) << "not within an election timeout";
  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(net.count_sent(is_snapshot_to_3), 2U);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
}

// raft_node.h: when the transport reports the image undeliverable the follower is probed
// again, and the next heartbeat answer sends a fresh image.
TEST(RaftSnapshot, FailedSnapshotSendReturnsFollowerToProbe) {
  TestNetwork net = cluster_with_follower_behind_compaction();
  send_snapshot_to_3_and_drop_it(net);
  net.node(1).report_snapshot_failed(3);
  EXPECT_EQ(net.node(1).progress_of(3)->state(), Progress::State::kProbe);
  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(net.count_sent(is_snapshot_to_3), 2U);
}

// ---- boot ----

// A node recovers from its newest image plus the entries logged after it, and carries on.
TEST(RaftBoot, NodeBootsFromSnapshotAndFollowingEntries) {
  std::vector<std::unique_ptr<RaftNode>> nodes;
  nodes.push_back(NodeBuilder(ConfigBuilder(1, {1}).build())
                      .snapshot(image(10, 2))
                      .log_terms({2, 3})
                      .hard_state(3, 1, 11)
                      .applied(10)
                      .build());
  TestNetwork net(std::move(nodes));
  const RaftLog& log = net.node(1).log();
  EXPECT_EQ(log.first_index(), 11U);
  EXPECT_EQ(log.last_index(), 12U);
  EXPECT_EQ(log.term_at(10), 2U);
  EXPECT_EQ(log.committed(), 11U);

  net.elect(1);
  ASSERT_EQ(log.committed(), 13U) << "its no-op commits the recovered tail";
  std::vector<Index> applied;
  for (const Entry& entry : net.applied(1)) applied.push_back(entry.index);
  EXPECT_EQ(applied, (std::vector<Index>{11, 12, 13}));
}

// The state machine must hold everything compacted out of the log; otherwise those entries
// are lost, and the error names them.
TEST(RaftBoot, AppliedBehindSnapshotIsCorruptionNamingCompactedRange) {
  RaftBootState boot;
  boot.snapshot = image(10, 2);
  boot.hard_state = HardState{.term = 2, .vote = kNoNode, .commit = 10};
  boot.applied = 7;
  const Status status = RaftNode::create(ConfigBuilder(1, {1}).build(), boot).status();
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("8..10"), std::string::npos) << status.to_string();
}

}  // namespace
}  // namespace dengine::raft::test
