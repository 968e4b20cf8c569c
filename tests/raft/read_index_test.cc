// Linearizable reads without the log: ReadIndex (Raft thesis §6.4), on the leader and
// forwarded by followers.

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

// Node 1 leads {1, 2, 3}; the test plays nodes 2 and 3 by hand. Its no-op is not committed.
std::unique_ptr<RaftNode> leader_without_commit(size_t max_pending_reads = 4096,
                                                size_t max_heartbeat_rounds = 64) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3})
                              .max_pending_reads(max_pending_reads)
                              .max_heartbeat_rounds(max_heartbeat_rounds)
                              .build())
                  .build();
  win_election_by_hand(*node);
  return node;
}

// The same leader once node 2 acknowledged its no-op: it committed an entry of its term.
std::unique_ptr<RaftNode> leader(size_t max_pending_reads = 4096,
                                 size_t max_heartbeat_rounds = 64) {
  auto node = leader_without_commit(max_pending_reads, max_heartbeat_rounds);
  acknowledge_log_by_hand(*node, {2});
  return node;
}

// The heartbeat round carried by `messages` (every heartbeat of one broadcast carries it).
uint64_t round_of(const std::vector<Message>& messages) {
  const std::vector<Message> heartbeats = of_type(messages, MessageType::kHeartbeat);
  if (heartbeats.empty()) throw std::runtime_error("no heartbeat was sent");
  return heartbeats.front().context;
}

Message read_index_request(NodeId from, NodeId to, Term term, uint64_t request_id) {
  return Message{
      .type = MessageType::kReadIndex, .from = from, .to = to, .term = term, .context = request_id};
}

// Thesis §6.4 step 1: "If the leader has not yet marked an entry from its current term
// committed, it waits until it has done so" — only then is its commit index the cluster's.
TEST(RaftReadIndex, LeaderWaitsForEntryOfItsTermToCommitBeforeConfirming) {
  auto node = leader_without_commit();
  ASSERT_TRUE(node->read_index(7).is_ok());
  Drained out = drain_node(*node);
  EXPECT_TRUE(out.read_states.empty());
  EXPECT_TRUE(of_type(out.messages, MessageType::kHeartbeat).empty())
      << "no round can confirm the read yet";

  node->step(append_response(2, 1, node->term(), 1));  // the no-op commits
  out = drain_node(*node);
  ASSERT_EQ(node->log().committed(), 1U);
  EXPECT_TRUE(out.read_states.empty()) << "the read still needs a heartbeat round";
  node->step(heartbeat_response(2, 1, node->term(), round_of(out.messages)));
  out = drain_node(*node);
  EXPECT_EQ(out.read_states, (std::vector<ReadState>{{.request_id = 7, .index = 1}}));
}

// Thesis §6.4 step 3: the leader confirms it still leads by a heartbeat round sent after the
// read arrived; answers to an earlier round prove nothing about the time of the read.
TEST(RaftReadIndex, ReadIsConfirmedOnlyByRoundSentAfterItArrived) {
  auto node = leader();
  node->tick();
  const uint64_t earlier = round_of(drain_messages(*node));
  ASSERT_TRUE(node->read_index(7).is_ok());
  const uint64_t later = round_of(drain_messages(*node));
  ASSERT_NE(earlier, later);

  node->step(heartbeat_response(2, 1, node->term(), earlier));
  node->step(heartbeat_response(3, 1, node->term(), earlier));
  EXPECT_TRUE(drain_node(*node).read_states.empty());

  node->step(heartbeat_response(2, 1, node->term(), later));
  EXPECT_EQ(drain_node(*node).read_states, (std::vector<ReadState>{{.request_id = 7, .index = 1}}));
}

// Thesis §6.4 ("the leader can batch" reads): reads arriving before one take_ready() share one
// heartbeat round, one heartbeat per follower, however many reads there are.
TEST(RaftReadIndex, ReadsArrivingBeforeOneReadyShareOneHeartbeatRound) {
  auto node = leader();
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(node->read_index(id).is_ok());
  const std::vector<Message> heartbeats = of_type(drain_messages(*node), MessageType::kHeartbeat);
  ASSERT_EQ(heartbeats.size(), 2U);
  EXPECT_EQ(heartbeats[0].context, heartbeats[1].context);

  node->step(heartbeat_response(3, 1, node->term(), heartbeats[0].context));
  EXPECT_EQ(drain_node(*node).read_states, (std::vector<ReadState>{{.request_id = 1, .index = 1},
                                                                   {.request_id = 2, .index = 1},
                                                                   {.request_id = 3, .index = 1}}));
}

// Thesis §6.4: a lone voter is a quorum by itself; no one else could have been elected.
TEST(RaftReadIndex, SingleVoterLeaderConfirmsReadAtOnce) {
  TestNetwork net(1);
  net.elect(1);
  ASSERT_EQ(net.node(1).log().committed(), 1U);
  ASSERT_TRUE(net.node(1).read_index(9).is_ok());
  net.clear_sent();
  net.drain(1);
  EXPECT_EQ(net.read_states(1), (std::vector<ReadState>{{.request_id = 9, .index = 1}}));
  EXPECT_TRUE(net.sent().empty());
}

// Thesis §6.4: "servers other than the leader" ask the leader for its read index and serve the
// read once they have applied that far.
TEST(RaftReadIndex, FollowerForwardsReadAndEmitsLeadersAnswer) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(2).read_index(5).is_ok());
  net.drain(2);
  ASSERT_EQ(net.queued().size(), 1U);
  EXPECT_EQ(net.queued()[0].type, MessageType::kReadIndex);
  EXPECT_EQ(net.queued()[0].to, 1U);
  EXPECT_EQ(net.queued()[0].context, 5U);

  net.drop_if([](const Message& m) { return m.type == MessageType::kReadIndexResponse; });
  net.deliver_all();
  EXPECT_TRUE(net.read_states(2).empty()) << "the leader's answer has not arrived";
  const std::vector<Message> answers = of_type(net.sent(), MessageType::kReadIndexResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_FALSE(answers[0].reject);

  net.node(2).step(answers[0]);
  net.drain(2);
  EXPECT_EQ(net.read_states(2), (std::vector<ReadState>{{.request_id = 5, .index = 1}}));
  EXPECT_TRUE(net.read_states(1).empty()) << "the leader answers, it does not serve the read";
}

// raft_node.h: with no leader to ask, a follower cannot confirm a read; the caller retries.
TEST(RaftReadIndex, FollowerWithoutKnownLeaderIsUnavailable) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).build();
  const Status status = node->read_index(1);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("knows no leader"), std::string::npos) << status.to_string();
}

// Thesis §6.4: a leader that steps down can no longer confirm anything; its own waiting reads
// are aborted and the followers' forwarded ones refused, so every caller retries elsewhere.
TEST(RaftReadIndex, PendingReadsAreAbortedWhenLeaderStepsDown) {
  auto node = leader();
  ASSERT_TRUE(node->read_index(7).is_ok());
  node->step(read_index_request(2, 1, node->term(), 8));
  drain_node(*node);  // the round goes out and is never answered

  node->step(append_response(3, 1, node->term() + 1, 0));  // a newer term
  ASSERT_EQ(node->role(), RaftRole::kFollower);
  const Drained out = drain_node(*node);
  EXPECT_EQ(out.aborted_reads, (std::vector<uint64_t>{7}));
  EXPECT_TRUE(out.read_states.empty());
  const std::vector<Message> answers = of_type(out.messages, MessageType::kReadIndexResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].to, 2U);
  EXPECT_EQ(answers[0].context, 8U);
  EXPECT_TRUE(answers[0].reject);
}

// A read forwarded to a node that no longer leads is refused, and the asking follower hands it
// back to its caller as aborted (Ready::aborted_reads).
TEST(RaftReadIndex, ForwardedReadIsRejectedWhenReceiverIsNotLeader) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(3).read_index(4).is_ok());
  net.drain(3);
  ASSERT_EQ(net.queued().size(), 1U);
  Message misdirected = net.queued()[0];  // as if node 3 still took node 2 for the leader
  misdirected.to = 2;
  net.node(2).step(misdirected);
  std::vector<Message> refusals;
  for (const Ready& ready : net.drain(2)) {
    for (const Message& message : ready.messages) refusals.push_back(message);
  }
  refusals = of_type(refusals, MessageType::kReadIndexResponse);
  ASSERT_EQ(refusals.size(), 1U);
  EXPECT_TRUE(refusals[0].reject);
  net.node(3).step(refusals[0]);
  net.drain(3);
  EXPECT_EQ(net.aborted_reads(3), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(net.read_states(3).empty());
}

// A follower's read waits on the leader's answer. When the leader goes and another is elected,
// that answer will never come: the read is aborted at the change, not left to its caller's
// deadline (a real-process test once hung a whole member's shutdown on one such read).
TEST(RaftReadIndex, AForwardedReadIsAbortedWhenTheLeaderChanges) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(2).read_index(9).is_ok());
  net.drain(2);  // the request is on its way to node 1, which will never answer
  const Term next = net.node(2).term() + 1;
  net.node(2).step(Message{.type = MessageType::kHeartbeat, .from = 3, .to = 2, .term = next});
  net.drain(2);
  ASSERT_EQ(net.node(2).leader(), 3U);
  EXPECT_EQ(net.aborted_reads(2), (std::vector<uint64_t>{9}));
  EXPECT_TRUE(net.read_states(2).empty());
}

// The leader still leads, but the request or its answer was lost: after an election timeout
// without an answer the follower gives the read back to its caller, who may retry.
TEST(RaftReadIndex, AForwardedReadUnansweredForAnElectionTimeoutIsAborted) {
  TestNetwork net(3);
  net.elect(1);
  net.drop_if([](const Message& m) { return m.type == MessageType::kReadIndex; });
  ASSERT_TRUE(net.node(2).read_index(11).is_ok());
  net.drain(2);
  net.deliver_all();
  const int timeout = kElectionTimeoutTicks;
  net.advance(timeout - 1);  // the leader's heartbeats keep node 2 its follower
  EXPECT_TRUE(net.aborted_reads(2).empty()) << "aborted before an election timeout";
  EXPECT_EQ(net.node(2).leader(), 1U);
  net.advance(1);
  EXPECT_EQ(net.aborted_reads(2), (std::vector<uint64_t>{11}));
  // A late answer for it is ignored: its caller was told already.
  net.node(2).step(Message{.type = MessageType::kReadIndexResponse,
                           .from = 1,
                           .to = 2,
                           .term = net.node(2).term(),
                           .index = 1,
                           .context = 11});
  net.drain(2);
  EXPECT_TRUE(net.read_states(2).empty());
}

// A node outside the configuration is not replicated to: a read index it asked for could never
// be served there, so the leader refuses it and the node's caller retries on a member.
TEST(RaftReadIndex, TheLeaderRefusesAReadIndexFromANonMember) {
  TestNetwork net(3);
  net.elect(1);
  net.node(1).step(read_index_request(7, 1, net.node(1).term(), 3));
  std::vector<Message> answers;
  for (const Ready& ready : net.drain(1)) {
    for (const Message& message : ready.messages) answers.push_back(message);
  }
  answers = of_type(answers, MessageType::kReadIndexResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].to, 7U);
  EXPECT_TRUE(answers[0].reject);
}

// STYLE.md "Errors and limits": reads waiting for confirmation are bounded by
// max_pending_reads, on the leader's own reads and on forwarded ones alike.
TEST(RaftReadIndex, ReadsBeyondMaxPendingReadsAreResourceExhausted) {
  auto node = leader(/*max_pending_reads=*/2);
  ASSERT_TRUE(node->read_index(1).is_ok());
  ASSERT_TRUE(node->read_index(2).is_ok());
  const Status status = node->read_index(3);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("max_pending_reads"), std::string::npos) << status.to_string();

  node->step(read_index_request(2, 1, node->term(), 4));
  const std::vector<Message> answers =
      of_type(drain_messages(*node), MessageType::kReadIndexResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
}

// Confirmed reads leave the bound: once a round confirms them, new reads are accepted again.
TEST(RaftReadIndex, ConfirmedReadsFreeTheirPlaceInMaxPendingReads) {
  auto node = leader(/*max_pending_reads=*/1);
  ASSERT_TRUE(node->read_index(1).is_ok());
  const uint64_t round = round_of(drain_messages(*node));
  node->step(heartbeat_response(2, 1, node->term(), round));
  ASSERT_EQ(drain_node(*node).read_states.size(), 1U);
  EXPECT_TRUE(node->read_index(2).is_ok());
}

// STYLE.md "Errors and limits": outstanding heartbeat rounds are bounded; when nobody answers,
// the oldest round is dropped and the reads waiting on it are aborted rather than kept forever.
TEST(RaftReadIndex, ReadIsAbortedWhenItsUnansweredRoundIsDropped) {
  auto node = leader(/*max_pending_reads=*/1, /*max_heartbeat_rounds=*/2);
  ASSERT_TRUE(node->read_index(7).is_ok());
  drain_node(*node);  // round 1 carries the read
  node->tick();       // round 2
  EXPECT_TRUE(drain_node(*node).aborted_reads.empty());
  node->tick();  // round 3 pushes round 1 out
  EXPECT_EQ(drain_node(*node).aborted_reads, (std::vector<uint64_t>{7}));
  EXPECT_TRUE(node->read_index(8).is_ok()) << "the aborted read no longer counts as pending";
}

}  // namespace
}  // namespace dengine::raft::test
