// Commitment (Raft §5.3, §5.4.2): what a leader may commit, and how followers learn it.

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

bool carries_term(const Message& m, Term term) {
  for (const Entry& e : m.entries) {
    if (e.term == term) return true;
  }
  return false;
}

// Raft Figure 8, from (b) to (c). S1 led term 2 and replicated index 2 to S2 only; S5 led term
// 3 with its own index 2, reaching no one; now S1 leads term 4 (voted in by S2, S3, S4) and
// brings its term-2 entry to S3 and S4, while its own term-4 entry (the no-op at index 3) is
// lost on the way. Appends carry one entry each, so the two travel separately.
class RaftFigure8 : public ::testing::Test {
 protected:
  RaftFigure8() : net_(make_nodes()) {
    net_.drop_if([this](const Message& m) {
      // The term-4 entry is lost towards every follower that could store it.
      return m.type == MessageType::kAppend && carries_term(m, 4) &&
             net_.node(m.to).log().last_index() >= 2;
    });
    net_.elect(1);
  }

  static std::vector<std::unique_ptr<RaftNode>> make_nodes() {
    const std::vector<NodeId> voters = {1, 2, 3, 4, 5};
    auto config = [&](NodeId id) { return ConfigBuilder(id, voters).max_append_bytes(1).build(); };
    std::vector<std::unique_ptr<RaftNode>> nodes;
    nodes.push_back(NodeBuilder(config(1)).log_terms({1, 2}).hard_state(3, kNoNode, 1).build());
    nodes.push_back(NodeBuilder(config(2)).log_terms({1, 2}).hard_state(3, kNoNode, 1).build());
    nodes.push_back(NodeBuilder(config(3)).log_terms({1}).hard_state(3, kNoNode, 1).build());
    nodes.push_back(NodeBuilder(config(4)).log_terms({1}).hard_state(3, kNoNode, 1).build());
    nodes.push_back(NodeBuilder(config(5)).log_terms({1, 3}).hard_state(3, 5, 1).build());
    return nodes;
  }

  TestNetwork net_;
};

// Raft §5.4.2 / Figure 8: "a leader cannot immediately conclude that an entry from a previous
// term is committed once it is stored on a majority": S5 could still be elected and overwrite
// it.
TEST_F(RaftFigure8, LeaderDoesNotCommitPreviousTermEntryByCounting) {
  RaftNode& s1 = net_.node(1);
  ASSERT_EQ(s1.role(), RaftRole::kLeader);
  ASSERT_EQ(s1.term(), 4U);
  ASSERT_EQ(s1.log().stable(), 3U);
  ASSERT_EQ(s1.progress_of(3)->match(), 2U);
  ASSERT_EQ(s1.progress_of(4)->match(), 2U);  // S1, S3, S4: a majority holds index 2
  EXPECT_EQ(s1.log().committed(), 1U);
  for (NodeId id : net_.ids()) EXPECT_EQ(net_.node(id).log().committed(), 1U) << "node " << id;
}

// Raft §5.4.2 / Figure 8 (e): once an entry of the leader's own term is on a majority, it and
// every entry before it are committed.
TEST_F(RaftFigure8, PreviousTermEntryCommitsWithLeadersOwnTermEntry) {
  net_.heal();
  net_.tick(1);  // heartbeats reveal the lost entry
  net_.deliver_all();
  RaftNode& s1 = net_.node(1);
  EXPECT_EQ(s1.log().committed(), 3U);
  ASSERT_EQ(net_.applied(1).size(), 3U);
  EXPECT_EQ(net_.applied(1)[1].term, 2U);
  EXPECT_EQ(net_.applied(1)[2].term, 4U);
  EXPECT_EQ(terms_of(net_.node(5).log()), (std::vector<Term>{1, 2, 4}))
      << "S5's uncommitted term-3 entry is overwritten";
}

// Raft §5.3: "A log entry is committed once the leader that created the entry has replicated
// it on a majority of the servers."
TEST(RaftCommit, EntryCommitsOnceOnMajority) {
  TestNetwork net(5);
  net.elect(1);
  net.isolate(4);
  net.isolate(5);
  const Index first = net.node(1).propose("on 1, 2, 3").value();
  net.deliver_all();
  EXPECT_EQ(net.node(1).log().committed(), first);

  net.isolate(3);
  const Index second = net.node(1).propose("on 1, 2").value();
  net.deliver_all();
  EXPECT_EQ(net.node(1).log().committed(), first) << "2 of 5 is no majority";
  EXPECT_EQ(net.node(2).log().last_index(), second);
}

// Raft §5.3: a single-voter group is its own majority, once its write is durable.
TEST(RaftCommit, SingleNodeCommitsOnceItsOwnWriteIsDurable) {
  TestNetwork net(1);
  net.set_deferred_persistence(1, true);
  net.tick_until_campaign(1);
  // Figure 2: even a lone voter counts its own vote only once the vote is durable.
  ASSERT_EQ(net.node(1).role(), RaftRole::kCandidate);
  net.persist(1);
  ASSERT_EQ(net.node(1).role(), RaftRole::kLeader);
  net.drain(1);  // hands over the no-op's write
  EXPECT_EQ(net.node(1).log().committed(), 0U);
  net.persist(1);
  EXPECT_EQ(net.node(1).log().committed(), 1U);
}

// Raft Figure 2 (commitIndex "increases monotonically"): a follower's commit index never goes
// back, whatever stale or reordered message it receives.
TEST(RaftCommit, CommitIndexNeverDecreases) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 1, 1})
                  .hard_state(1, kNoNode, 3)
                  .build();
  ASSERT_EQ(node->log().committed(), 3U);
  node->step(heartbeat(2, 1, 1, 1));
  EXPECT_EQ(node->log().committed(), 3U);
  node->step(append(2, 1, 1, 3, 1, {}, 2));
  EXPECT_EQ(node->log().committed(), 3U);
  node->step(append(2, 1, 1, 1, 1, {log_with_terms({1, 1})[1]}, 0));  // reordered, older
  EXPECT_EQ(node->log().committed(), 3U);
  EXPECT_EQ(node->log().last_index(), 3U);
}

// Heartbeats carry no entries, so a follower must not learn a commit index past what the leader
// knows it holds: its log beyond that may still diverge. Here node 3 holds a stale entry at
// index 2 that a commit index of 2 would wrongly commit.
TEST(RaftCommit, HeartbeatCommitIsClippedToFollowersMatch) {
  std::vector<std::unique_ptr<RaftNode>> nodes;
  for (NodeId id : {1U, 2U}) {
    nodes.push_back(NodeBuilder(ConfigBuilder(id, {1, 2, 3}).build()).log_terms({1}).build());
  }
  nodes.push_back(NodeBuilder(ConfigBuilder(3, {1, 2, 3}).build()).log_terms({1, 1}).build());
  TestNetwork net(std::move(nodes));
  net.drop_if([](const Message& m) { return m.type == MessageType::kAppend && m.to == 3; });
  net.elect(1);  // with node 2's vote; node 3's log is longer
  ASSERT_EQ(net.node(1).log().committed(), 2U) << "the no-op of term 2, on nodes 1 and 2";
  ASSERT_EQ(net.node(1).progress_of(3)->match(), 0U);

  net.tick(1);
  for (const Message& m : net.queued()) {
    if (m.type != MessageType::kHeartbeat) continue;
    EXPECT_EQ(m.commit, std::min<Index>(net.node(1).progress_of(m.to)->match(), 2))
        << "to node " << m.to;
  }
  net.deliver_all();
  EXPECT_EQ(net.node(2).log().committed(), 2U);
  EXPECT_EQ(net.node(3).log().committed(), 0U) << "its own index 2 is not the leader's";
  EXPECT_TRUE(net.applied(3).empty());
}

}  // namespace
}  // namespace dengine::raft::test
