// Leadership transfer (Raft thesis §3.10): the leader catches the target up, stops taking
// proposals, and sends TimeoutNow; the target campaigns at once and the voters answer it.

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr int kEt = kElectionTimeoutTicks;

bool is_timeout_now(const Message& m) {
  return m.type == MessageType::kTimeoutNow;
}

size_t timeout_nows_queued_to(const TestNetwork& net, NodeId to) {
  return static_cast<size_t>(
      std::count_if(net.queued().begin(), net.queued().end(),
                    [to](const Message& m) { return is_timeout_now(m) && m.to == to; }));
}

// Nodes 1..3, node 1 leading; node 3 missed the last three entries (it was cut off while they
// committed) and the links are healed.
TestNetwork cluster_with_lagging_follower_3() {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(3);
  for (int i = 0; i < 3; ++i) {
    if (!net.node(1).propose(numbered("x", i)).has_value()) throw std::runtime_error("propose");
  }
  net.deliver_all();
  net.heal();
  return net;
}

// Thesis §3.10 step 2: a target that already holds the leader's whole log is told at once.
TEST(RaftTransfer, TransferToCaughtUpFollowerSendsTimeoutNowAtOnce) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).transfer_leadership(2).is_ok());
  EXPECT_EQ(net.node(1).transfer_target(), 2U);
  net.drain(1);
  EXPECT_EQ(timeout_nows_queued_to(net, 2), 1U);
}

// Thesis §3.10 step 2: "the prior leader ... transfers its log entries to the target server"
// first; TimeoutNow goes out only once the target's log matches the leader's.
TEST(RaftTransfer, TransferToLaggingFollowerWaitsUntilItCatchesUp) {
  TestNetwork net = cluster_with_lagging_follower_3();
  ASSERT_TRUE(net.node(1).transfer_leadership(3).is_ok());
  net.drain(1);
  EXPECT_EQ(timeout_nows_queued_to(net, 3), 0U);

  net.drop_if(is_timeout_now);  // keep node 1 leading, to look at what it sent
  net.deliver_all();
  ASSERT_EQ(net.count_sent(is_timeout_now), 1U);
  const Index last = net.node(1).log().last_index();
  EXPECT_EQ(net.node(3).log().last_index(), last);
  // The TimeoutNow follows node 3's acknowledgement of the whole log.
  const std::vector<Message>& sent = net.sent();
  const auto timeout_now = std::find_if(sent.begin(), sent.end(), is_timeout_now);
  const auto caught_up = std::find_if(sent.begin(), sent.end(), [last](const Message& m) {
    return m.type == MessageType::kAppendResponse && m.from == 3 && !m.reject && m.index == last;
  });
  ASSERT_NE(caught_up, sent.end());
  EXPECT_LT(caught_up - sent.begin(), timeout_now - sent.begin());
}

// Thesis §3.10 step 1: "the prior leader stops accepting new client requests" — they would
// only make the target fall behind again.
TEST(RaftTransfer, ProposalsAreRefusedDuringTransfer) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).transfer_leadership(2).is_ok());
  const Result<Index> result = net.node(1).propose("x");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("transferred to node 2"), std::string::npos)
      << result.status().to_string();
}

// Thesis §3.10: "if the transfer does not complete within an election timeout, the prior
// leader aborts the transfer and resumes accepting client requests".
TEST(RaftTransfer, TransferIsAbandonedAfterElectionTimeout) {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(3);  // its TimeoutNow is lost
  ASSERT_TRUE(net.node(1).transfer_leadership(3).is_ok());
  for (int i = 1; i < kEt; ++i) {
    net.tick(1);
    net.deliver_all();
  }
  EXPECT_EQ(net.node(1).transfer_target(), 3U);
  EXPECT_FALSE(net.node(1).propose("early").has_value());

  net.tick(1);
  net.deliver_all();
  EXPECT_EQ(net.node(1).transfer_target(), kNoNode);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
  EXPECT_TRUE(net.node(1).propose("x").has_value());
}

// Thesis §3.10 step 3: on TimeoutNow the target starts an election at once — a real one, not a
// pre-vote (the leader itself asked for it) — and marks its requests as a transfer campaign.
TEST(RaftTransfer, TargetCampaignsAtOnceWithoutPreVote) {
  auto node = NodeBuilder(ConfigBuilder(2, {1, 2, 3}).pre_vote(true).build()).build();
  node->step(heartbeat(1, 2, 1, 0));
  ASSERT_EQ(node->leader(), 1U);
  node->step(Message{.type = MessageType::kTimeoutNow, .from = 1, .to = 2, .term = 1});
  EXPECT_EQ(node->role(), RaftRole::kCandidate);
  EXPECT_EQ(node->term(), 2U);
  const std::vector<Message> out = drain_messages(*node);
  EXPECT_TRUE(of_type(out, MessageType::kPreVote).empty());
  const std::vector<Message> votes = of_type(out, MessageType::kVote);
  ASSERT_EQ(votes.size(), 2U);
  for (const Message& vote : votes) EXPECT_EQ(vote.context, kTransferCampaign);
}

// Thesis §3.10 / §4.2.3: voters ignore candidates while they hear from a leader — except when
// the leader itself started the campaign, or a transfer could never succeed.
TEST(RaftTransfer, VoterHearingFromLeaderAnswersTransferCampaign) {
  auto node = NodeBuilder(ConfigBuilder(3, {1, 2, 3}).build()).build();
  node->step(heartbeat(1, 3, 1, 0));
  Message request = vote_request(2, 3, 2, 0, 0);
  request.context = kTransferCampaign;
  node->step(request);
  const std::vector<Message> answers = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_EQ(node->vote(), 2U);
}

// Thesis §3.10: the whole exchange ends with the target leading a new term.
TEST(RaftTransfer, TargetWinsElectionAfterTimeoutNow) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).transfer_leadership(2).is_ok());
  net.deliver_all();
  EXPECT_EQ(net.node(2).role(), RaftRole::kLeader);
  EXPECT_EQ(net.node(2).term(), 2U);
  EXPECT_EQ(net.node(1).role(), RaftRole::kFollower);
  EXPECT_EQ(net.node(1).leader(), 2U);
  EXPECT_EQ(net.node(1).transfer_target(), kNoNode);
}

// raft_node.h: only another voter can take over.
TEST(RaftTransfer, TransferToSelfOrNonVoterIsInvalidArgument) {
  TestNetwork net(3);
  net.elect(1);
  EXPECT_EQ(net.node(1).transfer_leadership(1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.node(1).transfer_leadership(4).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.node(1).transfer_target(), kNoNode);
  EXPECT_TRUE(net.node(1).propose("x").has_value());
}

// raft_node.h: only the leader can hand leadership over.
TEST(RaftTransfer, FollowerCannotTransfer) {
  TestNetwork net(3);
  net.elect(1);
  EXPECT_EQ(net.node(2).transfer_leadership(3).code(), StatusCode::kNotLeader);
}

// Thesis §3.10 step 2 with Raft §7: a target behind the compaction point catches up through a
// snapshot; once the image leaves it holding the whole log, TimeoutNow must follow.
TEST(RaftTransfer, TransferCompletesWhenTargetCatchesUpThroughSnapshot) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.compaction_trailing_entries(0); });
  net.elect(1);
  net.isolate(3);
  ASSERT_TRUE(net.node(1).propose("x").has_value());
  net.deliver_all();
  SnapshotMeta image;
  image.index = net.node(1).log().last_index();
  image.term = net.node(1).term();
  net.node(1).on_snapshot_ready(image);
  net.heal();

  ASSERT_TRUE(net.node(1).transfer_leadership(3).is_ok());
  net.deliver_all();
  // It caught up through the image, won, and appended its own no-op after it.
  EXPECT_GE(net.node(3).log().last_index(), image.index + 1);
  EXPECT_EQ(net.count_sent(is_timeout_now), 1U);
  EXPECT_EQ(net.node(3).role(), RaftRole::kLeader);
}

}  // namespace
}  // namespace dengine::raft::test
