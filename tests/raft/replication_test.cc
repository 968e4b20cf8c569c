// Log replication (Raft §5.3), the persistence rules of the Ready contract (Raft Figure 2,
// thesis §10.2.1) and etcd-raft's flow control (probe / replicate, inflight windows).

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr int kEt = kElectionTimeoutTicks;

// Node 1 of {1, 2, 3} as a follower with a recovered log; the test plays the leader.
std::unique_ptr<RaftNode> follower_with_log(const std::vector<Term>& terms, Index commit = 0) {
  const Term term = terms.empty() ? 0 : terms.back();
  return NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
      .log_terms(terms)
      .hard_state(term, kNoNode, commit)
      .build();
}

std::vector<Entry> entries(Index first, const std::vector<Term>& terms) {
  std::vector<Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    out.push_back(Entry{.term = terms[i],
                        .index = first + i,
                        .type = EntryType::kNormal,
                        .data = numbered("new", first + i)});
  }
  return out;
}

bool is_append_to(const Message& m, NodeId to) {
  return m.type == MessageType::kAppend && m.to == to;
}

size_t appends_with_entries_queued_to(const TestNetwork& net, NodeId to) {
  size_t count = 0;
  for (const Message& m : net.queued()) {
    if (is_append_to(m, to) && !m.entries.empty()) ++count;
  }
  return count;
}

// ---- follower side ----

// Raft §5.3 / Figure 2: "Reply false if log doesn't contain an entry at prevLogIndex whose term
// matches prevLogTerm."
TEST(RaftReplication, FollowerRejectsAppendWhosePrevEntryDoesNotMatch) {
  struct Case {
    Index prev_index;
    Term prev_term;
  };
  for (const Case c : {Case{3, 3}, Case{4, 2}}) {  // wrong term; past the end
    SCOPED_TRACE("prev (" + std::to_string(c.prev_index) + ", " + std::to_string(c.prev_term) +
                 ")");
    auto node = follower_with_log({1, 1, 2});
    node->step(append(2, 1, 3, c.prev_index, c.prev_term, entries(c.prev_index + 1, {3}), 0));
    const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kAppendResponse);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_TRUE(out[0].reject);
    EXPECT_EQ(out[0].index, c.prev_index);
    EXPECT_EQ(terms_of(node->log()), (std::vector<Term>{1, 1, 2}));
  }
}

// Raft §5.3 / Figure 2: "If an existing entry conflicts with a new one (same index but
// different terms), delete the existing entry and all that follow it; append any new entries."
TEST(RaftReplication, FollowerDeletesConflictingSuffixAndAppends) {
  auto node = follower_with_log({1, 1, 2, 2});
  node->step(append(2, 1, 3, 2, 1, entries(3, {3}), 0));
  Ready ready = node->take_ready();
  EXPECT_EQ(terms_of(node->log()), (std::vector<Term>{1, 1, 3}));
  ASSERT_EQ(ready.entries.size(), 1U) << "storage overwrites from the first new entry";
  EXPECT_EQ(ready.entries[0].index, 3U);
  EXPECT_EQ(ready.entries[0].term, 3U);
}

// Raft §5.3: only conflicting entries are deleted; a late duplicate of an older append must not
// truncate entries that follow it.
TEST(RaftReplication, FollowerKeepsMatchingEntriesOnDuplicateAppend) {
  auto node = follower_with_log({1, 1, 1});
  node->step(append(2, 1, 1, 1, 1, {log_with_terms({1, 1})[1]}, 0));  // entry 2 again
  EXPECT_EQ(terms_of(node->log()), (std::vector<Term>{1, 1, 1}));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kAppendResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].index, 2U) << "the last entry this append vouches for";
}

// Raft Figure 2: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of
// last new entry)": entries past the append are not known to match the leader's.
TEST(RaftReplication, FollowerCommitIsMinOfLeaderCommitAndLastNewEntry) {
  struct Case {
    Index leader_commit;
    Index expected;
  };
  for (const Case c : {Case{1, 1}, Case{2, 2}, Case{5, 2}}) {
    SCOPED_TRACE("leader commit " + std::to_string(c.leader_commit));
    auto node = follower_with_log({1, 1, 1, 1, 1});
    node->step(append(2, 1, 1, 1, 1, {log_with_terms({1, 1})[1]}, c.leader_commit));
    EXPECT_EQ(node->log().committed(), c.expected);
  }
}

// Raft §5.3 ("the protocol can be optimized to reduce the number of rejected AppendEntries
// RPCs"): with the follower's hint the leader skips a whole conflicting term per round trip,
// so each of Figure 7's followers is repaired after at most one rejection.
TEST(RaftReplication, LeaderBacksOffPastWholeConflictingTermInOneRoundTrip) {
  const std::vector<Term> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  struct Case {
    const char* figure;
    std::vector<Term> follower_log;
    size_t rejections;
  };
  const std::vector<Case> cases = {
      {"7a", {1, 1, 1, 4, 4, 5, 5, 6, 6}, 1},
      {"7b", {1, 1, 1, 4}, 1},
      {"7c", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, 0},
      {"7d", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, 0},
      {"7e", {1, 1, 1, 4, 4, 4, 4}, 1},
      {"7f", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 1},  // a naive back-off needs 7
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("Figure ") + c.figure);
    // Node 1 leads in term 8 with node 3's vote; node 2 holds the figure's follower log.
    std::vector<std::unique_ptr<RaftNode>> nodes;
    nodes.push_back(NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                        .log_terms(leader_log)
                        .hard_state(7)
                        .build());
    nodes.push_back(NodeBuilder(ConfigBuilder(2, {1, 2, 3}).build())
                        .log_terms(c.follower_log)
                        .hard_state(7)
                        .build());
    nodes.push_back(NodeBuilder(ConfigBuilder(3, {1, 2, 3}).build())
                        .log_terms(leader_log)
                        .hard_state(7)
                        .build());
    TestNetwork net(std::move(nodes));
    net.elect(1);
    ASSERT_EQ(net.node(1).term(), 8U);

    EXPECT_EQ(net.count_sent([](const Message& m) {
      return m.type == MessageType::kAppendResponse && m.from == 2 && m.reject;
    }),
              c.rejections);
    EXPECT_EQ(terms_of(net.node(2).log()), terms_of(net.node(1).log()));
    EXPECT_EQ(net.node(1).progress_of(2)->match(), net.node(1).log().last_index());
  }
}

// ---- leader side: flow control ----

// etcd-raft flow control: a follower is probed one append at a time until an append succeeds,
// then it is streamed to.
TEST(RaftReplication, ProgressGoesFromProbeToReplicateAfterFirstSuccess) {
  TestNetwork net(3);
  net.drop_if([](const Message& m) { return m.type == MessageType::kAppendResponse; });
  net.elect(1);
  const Progress* progress = net.node(1).progress_of(2);
  ASSERT_NE(progress, nullptr);
  EXPECT_EQ(progress->state(), Progress::State::kProbe);
  EXPECT_TRUE(progress->is_paused()) << "one probe at a time";

  net.heal();
  net.tick(1);  // the heartbeat answer unpauses the probe, which now succeeds
  net.deliver_all();
  progress = net.node(1).progress_of(2);
  EXPECT_EQ(progress->state(), Progress::State::kReplicate);
  EXPECT_EQ(progress->match(), net.node(1).log().last_index());
}

// etcd-raft flow control: in replicate state at most max_inflight_messages appends are
// unacknowledged at once.
TEST(RaftReplication, InflightWindowLimitsAppendsByCount) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.max_inflight(2, 1U << 20); });
  net.elect(1);
  ASSERT_EQ(net.node(1).progress_of(2)->state(), Progress::State::kReplicate);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(net.node(1).propose(numbered("p", static_cast<uint64_t>(i))).has_value());
    net.drain(1);
  }
  EXPECT_EQ(appends_with_entries_queued_to(net, 2), 2U);
  EXPECT_EQ(net.node(1).progress_of(2)->inflights().count(), 2U);
  EXPECT_TRUE(net.node(1).progress_of(2)->is_paused());

  net.deliver_all();  // acknowledgements open the window for the third
  EXPECT_EQ(net.node(2).log().last_index(), net.node(1).log().last_index());
}

// etcd-raft flow control: the window is also bounded in bytes.
TEST(RaftReplication, InflightWindowLimitsAppendsByBytes) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.max_inflight(100, 10); });
  net.elect(1);
  for (int i = 0; i < 3; ++i) {
    const std::string seven_bytes(7, static_cast<char>('a' + i));
    ASSERT_TRUE(net.node(1).propose(seven_bytes).has_value());
    net.drain(1);
  }
  EXPECT_EQ(appends_with_entries_queued_to(net, 2), 2U) << "7 + 7 bytes reach the 10-byte bound";
  EXPECT_EQ(net.node(1).progress_of(2)->inflights().bytes(), 14U);
  EXPECT_TRUE(net.node(1).progress_of(2)->is_paused());

  net.deliver_all();
  EXPECT_EQ(net.node(2).log().last_index(), net.node(1).log().last_index());
}

// Thesis §10.2.1 (batching): proposals made before one Ready share one append per follower.
TEST(RaftReplication, ProposalsBeforeOneReadyAreBatchedIntoOneAppendPerFollower) {
  TestNetwork net(3);
  net.elect(1);
  net.clear_sent();
  for (const char* data : {"a", "b", "c"}) ASSERT_TRUE(net.node(1).propose(data).has_value());
  net.drain(1);
  for (NodeId follower : {2U, 3U}) {
    SCOPED_TRACE("to node " + std::to_string(follower));
    std::vector<Message> appends;
    for (const Message& m : net.sent()) {
      if (is_append_to(m, follower)) appends.push_back(m);
    }
    ASSERT_EQ(appends.size(), 1U);
    EXPECT_EQ(appends[0].entries.size(), 3U);
  }
}

// etcd-raft flow control: appends streamed in replicate state may be lost; the follower's
// heartbeat answer reveals the gap and the leader probes again from the follower's last index.
TEST(RaftReplication, LostAppendInReplicateStateIsRecoveredByHeartbeatResponse) {
  TestNetwork net(3);
  net.elect(1);
  net.drop_if([](const Message& m) { return is_append_to(m, 2); });
  ASSERT_TRUE(net.node(1).propose("lost on the way to 2").has_value());
  net.deliver_all();
  ASSERT_LT(net.node(2).log().last_index(), net.node(1).log().last_index());

  net.heal();
  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(terms_of(net.node(2).log()), terms_of(net.node(1).log()));
  EXPECT_EQ(net.node(1).progress_of(2)->match(), net.node(1).log().last_index());
  EXPECT_EQ(net.node(2).log().committed(), net.node(1).log().committed());
}

// etcd-raft flow control: when every acknowledgement of a full window is lost, the follower's
// heartbeat answer shows it has the entries, and an empty append draws a fresh acknowledgement
// that reopens the window (otherwise replication to it would stall for good).
TEST(RaftReplication, FullWindowWithLostAcknowledgementsIsReopenedByHeartbeat) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.max_inflight(1, 1U << 20); });
  net.elect(1);
  net.drop_if(
      [](const Message& m) { return m.type == MessageType::kAppendResponse && m.from == 2; });
  ASSERT_TRUE(net.node(1).propose("a").has_value());
  net.deliver_all();
  ASSERT_EQ(net.node(2).log().last_index(), net.node(1).log().last_index());
  ASSERT_TRUE(net.node(1).progress_of(2)->is_paused()) << "its acknowledgement was lost";
  ASSERT_TRUE(net.node(1).propose("b").has_value());
  net.deliver_all();
  ASSERT_LT(net.node(2).log().last_index(), net.node(1).log().last_index());

  net.heal();
  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(net.node(2).log().last_index(), net.node(1).log().last_index());
  EXPECT_EQ(net.node(1).progress_of(2)->match(), net.node(1).log().last_index());
  EXPECT_FALSE(net.node(1).progress_of(2)->is_paused());
}

// ---- the Ready contract: persistence before acknowledgement ----

// Raft Figure 2: a follower acknowledges entries only once they are on stable storage.
TEST(RaftPersistence, AppendAcknowledgementIsWithheldUntilPersisted) {
  auto node = follower_with_log({});
  node->step(append(2, 1, 1, 0, 0, entries(1, {1, 1}), 0));
  Ready ready = node->take_ready();
  ASSERT_TRUE(ready.has_storage_work());
  EXPECT_EQ(ready.entries.size(), 2U);
  EXPECT_TRUE(of_type(ready.messages, MessageType::kAppendResponse).empty());

  node->on_persisted(ready.write_id);
  const std::vector<Message> out =
      of_type(node->take_ready().messages, MessageType::kAppendResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].index, 2U);
}

// Raft Figure 2: each acknowledgement waits for the write it depends on, not for later ones.
TEST(RaftPersistence, AcknowledgementIsReleasedWithTheWriteItDependsOn) {
  auto node = follower_with_log({});
  node->step(append(2, 1, 1, 0, 0, entries(1, {1}), 0));
  const Ready first = node->take_ready();
  node->step(append(2, 1, 1, 1, 1, entries(2, {1}), 0));
  const Ready second = node->take_ready();
  ASSERT_LT(first.write_id, second.write_id);

  node->on_persisted(first.write_id);
  std::vector<Message> out = of_type(node->take_ready().messages, MessageType::kAppendResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].index, 1U);
  EXPECT_EQ(node->log().stable(), 1U);

  node->on_persisted(second.write_id);
  out = of_type(node->take_ready().messages, MessageType::kAppendResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].index, 2U);
}

// Thesis §10.2.1: "the leader can write to its disk in parallel with replicating to the
// followers": the Ready that hands the leader's entry to storage also sends it.
TEST(RaftPersistence, LeaderSendsAppendsBeforeItsOwnWriteIsDurable) {
  TestNetwork net(3);
  net.elect(1);
  net.set_deferred_persistence(1, true);
  const Index index = net.node(1).propose("x").value();
  const std::vector<Ready> readies = net.drain(1);
  ASSERT_EQ(readies.size(), 1U);
  ASSERT_EQ(readies[0].entries.size(), 1U);
  EXPECT_EQ(readies[0].entries[0].index, index);
  size_t appends = 0;
  for (const Message& m : readies[0].messages) {
    if (m.type == MessageType::kAppend && !m.entries.empty() && m.entries.back().index == index) {
      ++appends;
    }
  }
  EXPECT_EQ(appends, 2U);
  EXPECT_LT(net.node(1).log().stable(), index);
}

// Thesis §10.2.1: the leader's own acknowledgement is not needed when the followers form a
// majority, so commit advances before the leader's write is durable (but nothing is applied
// locally until it is).
TEST(RaftPersistence, LeaderCommitsBeforeOwnWriteIsDurableWhenFollowersFormQuorum) {
  TestNetwork net(3);
  net.elect(1);
  net.set_deferred_persistence(1, true);
  const Index index = net.node(1).propose("x").value();
  net.deliver_all();
  EXPECT_EQ(net.node(1).log().committed(), index);
  EXPECT_LT(net.node(1).log().stable(), index);
  EXPECT_NE(net.applied(1).back().index, index) << "applied only once locally durable";

  net.persist(1);
  net.drain(1);
  EXPECT_EQ(net.applied(1).back().index, index);
}

// Thesis §10.2.1 (docs/architecture.md §9): the leader's own acknowledgement counts toward commit
// only once its append is durable.
TEST(RaftPersistence, LeaderCountsItsOwnAckOnlyOnceDurable) {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(3);
  net.set_deferred_persistence(1, true);
  const Index index = net.node(1).propose("x").value();
  net.deliver_all();
  ASSERT_EQ(net.node(1).progress_of(2)->match(), index) << "node 2 has acknowledged";
  EXPECT_LT(net.node(1).log().committed(), index) << "1 of 2 needed acknowledgements is durable";

  net.persist(1);
  EXPECT_EQ(net.node(1).log().committed(), index);
}

// Raft §5.3 with the Ready contract: committed entries reach the state machine once each, in
// log order, and only after they are durable on that node.
TEST(RaftReplication, FollowerAppliesCommittedEntriesOnlyOnceDurable) {
  auto node = follower_with_log({});
  node->step(append(2, 1, 1, 0, 0, entries(1, {1, 1}), 2));
  Ready first = node->take_ready();
  EXPECT_EQ(node->log().committed(), 2U);
  EXPECT_TRUE(first.committed_entries.empty()) << "not durable yet";

  node->on_persisted(first.write_id);
  Ready second = node->take_ready();
  ASSERT_EQ(second.committed_entries.size(), 2U);
  EXPECT_EQ(second.committed_entries[0].index, 1U);
  EXPECT_EQ(second.committed_entries[1].index, 2U);
  node->on_applied(2);
  EXPECT_TRUE(node->take_ready().committed_entries.empty()) << "delivered once";
}

// Raft §5.3 (State Machine Safety): every node applies the same entries, each once, in order.
TEST(RaftReplication, CommittedEntriesAreAppliedOnceInOrderOnEveryNode) {
  TestNetwork net(3);
  net.elect(1);
  for (int batch = 0; batch < 5; ++batch) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          net.node(1).propose(numbered("b", static_cast<uint64_t>(10 * batch + i))).has_value());
    }
    net.advance(1);
  }
  net.advance(2 * kEt);
  const std::vector<Entry>& leader_applied = net.applied(1);
  ASSERT_EQ(leader_applied.size(), net.node(1).log().last_index());
  for (size_t i = 0; i < leader_applied.size(); ++i) EXPECT_EQ(leader_applied[i].index, i + 1);
  for (NodeId id : {2U, 3U}) EXPECT_EQ(net.applied(id), leader_applied) << "node " << id;
}

}  // namespace
}  // namespace dengine::raft::test
