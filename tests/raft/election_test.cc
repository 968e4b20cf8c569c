// Leader election (Raft §5.2, §5.4.1), pre-vote (thesis §9.6) and check-quorum (thesis §6.2),
// one rule per test, in the spirit of etcd-raft's raft_paper_test.go.

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr int kEt = kElectionTimeoutTicks;

// A node of a three-voter cluster, alone: the test plays the other two by hand.
std::unique_ptr<RaftNode> lone_voter(bool pre_vote) {
  return NodeBuilder(ConfigBuilder(1, {1, 2, 3}).pre_vote(pre_vote).build()).build();
}

void tick_until_not_follower(RaftNode& node) {
  for (int i = 0; i < 2 * kEt && node.role() == RaftRole::kFollower; ++i) node.tick();
  ASSERT_NE(node.role(), RaftRole::kFollower);
}

// ---- timeouts ----

// Raft §5.2: "If a follower receives no communication over a period of time called the election
// timeout, then it assumes there is no viable leader and begins an election."
TEST(RaftElection, FollowerCampaignsAfterItsRandomizedElectionTimeout) {
  auto node = lone_voter(/*pre_vote=*/false);
  const int timeout = node->randomized_election_timeout_ticks();
  for (int i = 1; i < timeout; ++i) node->tick();
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  node->tick();
  EXPECT_EQ(node->role(), RaftRole::kCandidate);
}

// Thesis §9.6: with pre-vote, the timeout starts a pre-election, not an election.
TEST(RaftPreVote, FollowerStartsPreElectionAfterItsRandomizedElectionTimeout) {
  auto node = lone_voter(/*pre_vote=*/true);
  const int timeout = node->randomized_election_timeout_ticks();
  for (int i = 1; i < timeout; ++i) node->tick();
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  node->tick();
  EXPECT_EQ(node->role(), RaftRole::kPreCandidate);
  const std::vector<Message> pre_votes = of_type(drain_messages(*node), MessageType::kPreVote);
  ASSERT_EQ(pre_votes.size(), 2U);
  for (const Message& m : pre_votes) EXPECT_EQ(m.term, 1U);
}

// Raft §5.2: a follower that keeps hearing from a leader never times out.
TEST(RaftElection, FollowerHearingFromLeaderDoesNotCampaign) {
  auto node = lone_voter(/*pre_vote=*/false);
  for (int round = 0; round < 5; ++round) {
    for (int i = 1; i < kEt; ++i) node->tick();
    node->step(heartbeat(2, 1, 1, 0));
  }
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->leader(), 2U);
}

// Raft §5.2: "election timeouts are chosen randomly from a fixed interval" — here
// [election_timeout_ticks, 2 * election_timeout_ticks), re-drawn at every election.
TEST(RaftElection, RandomizedElectionTimeoutLiesInOneToTwoElectionTimeouts) {
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    for (NodeId id : {1U, 2U, 3U}) {
      auto node =
          NodeBuilder(ConfigBuilder(id, {1, 2, 3}).pre_vote(false).seed(seed).build()).build();
      for (int election = 0; election < 3; ++election) {
        const int timeout = node->randomized_election_timeout_ticks();
        EXPECT_GE(timeout, kEt);
        EXPECT_LT(timeout, 2 * kEt);
        seen.insert(timeout);
        tick_until_not_follower(*node);  // each campaign draws a new timeout
        node->step(heartbeat(id % 3 + 1, id, node->term(), 0));
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEt)) << "every value of the interval occurs";
}

// ---- campaigning ----

// Raft §5.2: "To begin an election, a follower increments its current term and transitions to
// candidate state. It then votes for itself and issues RequestVote RPCs."
TEST(RaftElection, CandidateIncrementsTermAndVotesForItself) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).pre_vote(false).build())
                  .log_terms({1, 1})
                  .hard_state(1)
                  .build();
  tick_until_not_follower(*node);
  EXPECT_EQ(node->role(), RaftRole::kCandidate);
  EXPECT_EQ(node->term(), 2U);
  EXPECT_EQ(node->vote(), 1U);
  const std::vector<Message> votes = of_type(drain_messages(*node), MessageType::kVote);
  ASSERT_EQ(votes.size(), 2U);
  for (const Message& m : votes) {
    EXPECT_EQ(m.term, 2U);
    EXPECT_EQ(m.index, 2U);     // candidate's last index
    EXPECT_EQ(m.log_term, 1U);  // and last term, for §5.4.1
  }
}

// Raft §5.2: "A candidate wins an election if it receives votes from a majority of the servers
// in the full cluster for the same term."
TEST(RaftElection, CandidateWinsWithMajorityOfVotes) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3, 4, 5}).pre_vote(false).build()).build();
  tick_until_not_follower(*node);
  drain_messages(*node);
  node->step(vote_response(2, 1, 1, true));
  EXPECT_EQ(node->role(), RaftRole::kCandidate) << "2 of 5 votes";
  node->step(vote_response(3, 1, 1, true));
  EXPECT_EQ(node->role(), RaftRole::kLeader) << "3 of 5 votes";
  EXPECT_EQ(node->leader(), 1U);
  EXPECT_EQ(node->term(), 1U);
}

// Raft §5.2: a candidate that cannot win any more returns to follower in its term.
TEST(RaftElection, CandidateStepsDownOnMajorityOfRejections) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3, 4, 5}).pre_vote(false).build()).build();
  tick_until_not_follower(*node);
  drain_messages(*node);
  node->step(vote_response(2, 1, 1, false));
  node->step(vote_response(3, 1, 1, false));
  EXPECT_EQ(node->role(), RaftRole::kCandidate) << "3 of 5 may still grant";
  node->step(vote_response(4, 1, 1, false));
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->term(), 1U);
  EXPECT_EQ(node->vote(), 1U) << "the vote of term 1 stays cast";
}

// Raft §5.2: "If AppendEntries RPC received from new leader: convert to follower."
TEST(RaftElection, CandidateStepsDownOnAppendFromLeaderOfItsTerm) {
  auto node = lone_voter(/*pre_vote=*/false);
  tick_until_not_follower(*node);
  ASSERT_EQ(node->role(), RaftRole::kCandidate);
  node->step(append(2, 1, node->term(), 0, 0, log_with_terms({1}), 0));
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->leader(), 2U);
  EXPECT_EQ(node->term(), 1U);
  EXPECT_EQ(node->log().last_index(), 1U);
}

// Raft §5.1: "If RPC request or response contains term T > currentTerm: set currentTerm = T,
// convert to follower." (Pre-votes are the documented exception, tested below.)
TEST(RaftElection, HigherTermInAnyMessageConvertsLeaderToFollower) {
  struct Case {
    Message message;
    NodeId expected_leader;
  };
  const std::vector<Case> cases = {
      {append(2, 1, 2, 0, 0, {}, 0), 2},
      {heartbeat(2, 1, 2, 0), 2},
      {vote_request(2, 1, 2, 1, 1), kNoNode},
      {vote_response(2, 1, 2, false), kNoNode},
      {pre_vote_response(2, 1, 2, false), kNoNode},
      {Message{.type = MessageType::kAppendResponse, .from = 2, .to = 1, .term = 2}, kNoNode},
      {Message{.type = MessageType::kHeartbeatResponse, .from = 2, .to = 1, .term = 2}, kNoNode},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(message_type_name(c.message.type)));
    // Without check-quorum, so the leader does not ignore the vote request as a lease holder.
    TestNetwork net(3, [](ConfigBuilder& b) { b.check_quorum(false); });
    net.elect(1);
    ASSERT_EQ(net.node(1).term(), 1U);
    net.node(1).step(c.message);
    EXPECT_EQ(net.node(1).role(), RaftRole::kFollower);
    EXPECT_EQ(net.node(1).term(), 2U);
    EXPECT_EQ(net.node(1).leader(), c.expected_leader);
  }
}

// Raft §5.2: a cluster of one wins its election with its own vote.
TEST(RaftElection, SingleNodeClusterElectsItself) {
  TestNetwork net(1);
  net.tick_until_campaign(1);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
  EXPECT_EQ(net.node(1).term(), 1U);
  EXPECT_EQ(net.node(1).log().committed(), 1U) << "its no-op commits once durable";
}

// Thesis §6.4 / Raft §8: "each leader commit a blank no-op entry into the log at the start of
// its term".
TEST(RaftElection, LeaderAppendsNoOpAtStartOfItsTerm) {
  TestNetwork net(3);
  net.elect(1);
  net.tick(1);  // a heartbeat tells the follower acknowledged last of the commit index
  net.deliver_all();
  const RaftLog& log = net.node(1).log();
  ASSERT_EQ(log.last_index(), 1U);
  EXPECT_EQ(log.at(1).type, EntryType::kNoOp);
  EXPECT_EQ(log.at(1).term, net.node(1).term());
  for (NodeId id : net.ids()) {
    ASSERT_EQ(net.applied(id).size(), 1U) << "node " << id;
    EXPECT_EQ(net.applied(id)[0].type, EntryType::kNoOp);
  }
}

// ---- voting ----

// Raft §5.4.1: the voter denies its vote if its own log is more up-to-date; a log whose last
// entry has a higher term is more up-to-date.
TEST(RaftElection, VoteIsRefusedToCandidateWithLowerLastTerm) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).log_terms({1, 2}).build();
  node->step(vote_request(2, 1, 3, /*last_index=*/5, /*last_term=*/1));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(node->term(), 3U) << "the higher term is still adopted (§5.1)";
  EXPECT_EQ(node->vote(), kNoNode);
}

// Raft §5.4.1: "If the logs end with the same term, then whichever log is longer is more
// up-to-date."
TEST(RaftElection, VoteIsRefusedToCandidateWithShorterLogOfSameLastTerm) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).log_terms({1, 1, 1}).build();
  node->step(vote_request(2, 1, 2, /*last_index=*/2, /*last_term=*/1));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(node->vote(), kNoNode);
}

// Raft §5.4.1: a candidate whose log is at least as up-to-date gets the vote.
TEST(RaftElection, VoteIsGrantedToCandidateWithAtLeastAsUpToDateLog) {
  struct Case {
    Index last_index;
    Term last_term;
  };
  for (const Case c : {Case{3, 1}, Case{4, 1}, Case{1, 2}}) {
    SCOPED_TRACE("candidate last (" + std::to_string(c.last_index) + ", " +
                 std::to_string(c.last_term) + ")");
    auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).log_terms({1, 1, 1}).build();
    node->step(vote_request(2, 1, 2, c.last_index, c.last_term));
    const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_FALSE(out[0].reject);
    EXPECT_EQ(node->vote(), 2U);
  }
}

// Raft §5.2: "Each server will vote for at most one candidate in a given term, on a
// first-come-first-served basis."
TEST(RaftElection, SecondCandidateOfSameTermIsRefused) {
  auto node = lone_voter(/*pre_vote=*/false);
  node->step(vote_request(2, 1, 1, 0, 0));
  node->step(vote_request(3, 1, 1, 0, 0));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].to, 2U);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[1].to, 3U);
  EXPECT_TRUE(out[1].reject);
  EXPECT_EQ(node->vote(), 2U);
}

// Raft §5.2 (votedFor is null or candidateId): the candidate we voted for may ask again, since
// our first answer may have been lost.
TEST(RaftElection, CandidateVotedForIsGrantedAgain) {
  auto node = lone_voter(/*pre_vote=*/false);
  node->step(vote_request(2, 1, 1, 0, 0));
  drain_messages(*node);
  node->step(vote_request(2, 1, 1, 0, 0));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FALSE(out[0].reject);
}

// Raft Figure 2 (votedFor is persistent state): a restarted voter remembers its vote, refusing
// another candidate of that term and still granting the one it voted for.
TEST(RaftElection, RecoveredVoteIsHonouredAfterRestart) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).hard_state(2, /*vote=*/3).build();
  node->step(vote_request(2, 1, 2, 0, 0));
  node->step(vote_request(3, 1, 2, 0, 0));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_TRUE(out[0].reject) << "to node 2";
  EXPECT_FALSE(out[1].reject) << "to node 3";
  EXPECT_EQ(node->vote(), 3U);
}

// ---- persistence before answering (Raft Figure 2: "Updated on stable storage before
// responding to RPCs") ----

// Raft Figure 2: a vote is durable before the candidate can count it, or a restarted voter
// could vote twice in one term.
TEST(RaftPersistence, VoteGrantIsNotSentBeforeTheVoteIsDurable) {
  auto node = lone_voter(/*pre_vote=*/false);
  node->step(vote_request(2, 1, 1, 0, 0));
  Ready ready = node->take_ready();
  ASSERT_TRUE(ready.has_storage_work());
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 1U);
  EXPECT_EQ(ready.hard_state->vote, 2U);
  EXPECT_TRUE(of_type(ready.messages, MessageType::kVoteResponse).empty());
  EXPECT_TRUE(of_type(node->take_ready().messages, MessageType::kVoteResponse).empty())
      << "still not durable";

  node->on_persisted(ready.write_id);
  const std::vector<Message> out = of_type(node->take_ready().messages, MessageType::kVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].to, 2U);
}

// Raft Figure 2: a candidate's new term and its vote for itself are durable before it asks.
TEST(RaftPersistence, CandidateVoteRequestsAreWithheldUntilTermAndVoteAreDurable) {
  auto node = lone_voter(/*pre_vote=*/false);
  tick_until_not_follower(*node);
  Ready ready = node->take_ready();
  ASSERT_TRUE(ready.has_storage_work());
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 1U);
  EXPECT_EQ(ready.hard_state->vote, 1U);
  EXPECT_TRUE(of_type(ready.messages, MessageType::kVote).empty());

  node->on_persisted(ready.write_id);
  EXPECT_EQ(of_type(node->take_ready().messages, MessageType::kVote).size(), 2U);
}

// ---- pre-vote (thesis §9.6) ----

// Thesis §9.6: a pre-candidate asks for term + 1 but changes neither its term nor its vote,
// so it has nothing to persist.
TEST(RaftPreVote, PreCandidateDoesNotIncrementItsTermOrVote) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).hard_state(3, 2).build();
  tick_until_not_follower(*node);
  EXPECT_EQ(node->role(), RaftRole::kPreCandidate);
  EXPECT_EQ(node->term(), 3U);
  EXPECT_EQ(node->vote(), 2U);
  Ready ready = node->take_ready();
  EXPECT_FALSE(ready.has_storage_work());
  const std::vector<Message> pre_votes = of_type(ready.messages, MessageType::kPreVote);
  ASSERT_EQ(pre_votes.size(), 2U);
  for (const Message& m : pre_votes) EXPECT_EQ(m.term, 4U);
}

// Thesis §9.6: a pre-candidate that could win starts the real election in term + 1.
TEST(RaftPreVote, PreCandidateWithMajorityOfPreVotesBecomesCandidate) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).hard_state(3).build();
  tick_until_not_follower(*node);
  drain_messages(*node);
  node->step(pre_vote_response(2, 1, 4, true));
  EXPECT_EQ(node->role(), RaftRole::kCandidate);
  EXPECT_EQ(node->term(), 4U);
  EXPECT_EQ(node->vote(), 1U);
}

// Thesis §9.6: a pre-candidate refused by a majority returns to follower, term unchanged.
TEST(RaftPreVote, PreCandidateRefusedByMajorityReturnsToFollowerInItsTerm) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).hard_state(3).build();
  tick_until_not_follower(*node);
  drain_messages(*node);
  node->step(pre_vote_response(2, 1, 3, false));
  node->step(pre_vote_response(3, 1, 3, false));
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->term(), 3U);
}

// Thesis §9.6: a pre-vote is granted as a vote in that term would be, without changing the
// voter's term or vote (and so without a write).
TEST(RaftPreVote, PreVoteForLaterTermIsGrantedWithoutChangingTermOrVote) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 2})
                  .hard_state(2, /*vote=*/3)
                  .build();
  node->step(pre_vote_request(2, 1, 3, 2, 2));
  Ready ready = node->take_ready();
  EXPECT_FALSE(ready.has_storage_work());
  const std::vector<Message> out = of_type(ready.messages, MessageType::kPreVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].term, 3U);
  EXPECT_EQ(node->term(), 2U);
  EXPECT_EQ(node->vote(), 3U);
}

// Thesis §9.6 with Raft §5.4.1: a pre-vote is refused to a candidate with a stale log.
TEST(RaftPreVote, PreVoteIsRefusedToCandidateWithStaleLog) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).log_terms({1, 2}).build();
  node->step(pre_vote_request(2, 1, 3, 5, 1));
  const std::vector<Message> out = of_type(drain_messages(*node), MessageType::kPreVoteResponse);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(node->term(), 2U);
}

// Thesis §9.6: a node cut off from the cluster keeps failing pre-votes instead of raising its
// term, so when it returns the leader is undisturbed.
TEST(RaftPreVote, PartitionedNodeRejoiningDoesNotDisruptLeader) {
  TestNetwork net(3);
  net.elect(1);
  const Term term = net.node(1).term();
  net.isolate(3);
  ASSERT_TRUE(net.node(1).propose("written while 3 is away").has_value());
  net.advance(5 * kEt);
  EXPECT_EQ(net.node(3).term(), term) << "failed pre-votes raise no term";

  net.heal();
  net.advance(5 * kEt);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
  EXPECT_EQ(net.node(1).term(), term);
  EXPECT_EQ(net.node(3).role(), RaftRole::kFollower);
  EXPECT_EQ(net.node(3).leader(), 1U);
  EXPECT_EQ(net.node(3).log().last_index(), net.node(1).log().last_index());
}

// ---- check-quorum (thesis §6.2) and leader stickiness (thesis §4.2.3) ----

// Thesis §6.2: "a leader steps down if an election timeout elapses without a successful round
// of heartbeats to a majority of its cluster" (here: a timeout passes its check with the
// followers heard from during the previous one, so it steps down within two).
TEST(RaftCheckQuorum, LeaderThatHearsFromNoQuorumStepsDown) {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(1);
  net.tick(1, kEt - 1);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
  net.tick(1, kEt + 1);
  EXPECT_EQ(net.node(1).role(), RaftRole::kFollower);
  EXPECT_EQ(net.node(1).leader(), kNoNode);
}

// Thesis §6.2: a leader in touch with a quorum keeps its leadership.
TEST(RaftCheckQuorum, LeaderThatHearsFromQuorumStaysLeader) {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(3);
  net.advance(5 * kEt);
  EXPECT_EQ(net.node(1).role(), RaftRole::kLeader);
  EXPECT_EQ(net.node(1).term(), 1U);
}

// Thesis §4.2.3: a follower that heard from a leader within the election timeout ignores a
// RequestVote from a higher term, so a disruptive server cannot depose a healthy leader.
TEST(RaftCheckQuorum, FollowerInLeaseIgnoresVoteRequests) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.pre_vote(false); });
  net.elect(1);
  net.node(2).step(
      vote_request(3, 2, 2, net.node(3).log().last_index(), net.node(3).log().last_term()));
  EXPECT_EQ(net.node(2).term(), 1U);
  EXPECT_EQ(net.node(2).vote(), 1U);
  net.drain(2);
  EXPECT_TRUE(net.queued().empty()) << "not even a rejection";
}

// Thesis §9.6 with §6.2: the same holds for pre-votes.
TEST(RaftCheckQuorum, FollowerInLeaseIgnoresPreVoteRequests) {
  TestNetwork net(3);
  net.elect(1);
  net.node(2).step(
      pre_vote_request(3, 2, 2, net.node(3).log().last_index(), net.node(3).log().last_term()));
  net.drain(2);
  EXPECT_TRUE(net.queued().empty());
  EXPECT_EQ(net.node(2).term(), 1U);
}

// Raft §5.1: a server that gets a stale-term request rejects it; with check-quorum the answer
// carries the current term so a deposed leader learns it (etcd-raft does the same).
TEST(RaftCheckQuorum, FollowerAnswersStaleTermAppendWithItsTerm) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).hard_state(3).build();
  node->step(heartbeat(2, 1, 2, 0));
  const std::vector<Message> out = drain_messages(*node);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(out[0].to, 2U);
  EXPECT_EQ(out[0].term, 3U);
  EXPECT_EQ(node->term(), 3U);
}

// Raft §5.1 / thesis §6.2: a leader cut off while the others elected a successor steps down
// as soon as it hears of the newer term.
TEST(RaftCheckQuorum, StaleLeaderStepsDownOnNewerTerm) {
  TestNetwork net(3);
  net.elect(1);
  net.isolate(1);
  for (int i = 0; i < 10 * kEt && net.node(2).role() != RaftRole::kLeader &&
                  net.node(3).role() != RaftRole::kLeader;
       ++i) {
    net.tick(2);
    net.tick(3);
    net.deliver_all();
  }
  const NodeId new_leader = net.node(2).role() == RaftRole::kLeader ? 2 : 3;
  ASSERT_EQ(net.node(new_leader).role(), RaftRole::kLeader);
  ASSERT_EQ(net.node(new_leader).term(), 2U);
  ASSERT_EQ(net.node(1).role(), RaftRole::kLeader) << "node 1 has not noticed yet";

  net.heal();
  net.tick(1);  // a heartbeat of term 1
  net.deliver_all();
  EXPECT_EQ(net.node(1).role(), RaftRole::kFollower);
  EXPECT_EQ(net.node(1).term(), 2U);
  EXPECT_EQ(net.node(new_leader).role(), RaftRole::kLeader);
}

// Raft §5.2: a candidate's election timer restarts when its election starts, so it waits a
// whole new randomized timeout before giving up on this term.
TEST(RaftElection, CandidateWaitsFullRandomizedTimeoutAfterPreVoteWins) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).build();
  tick_until_not_follower(*node);
  ASSERT_EQ(node->role(), RaftRole::kPreCandidate);
  drain_messages(*node);
  node->tick();
  node->tick();
  node->tick();  // pre-vote answers are slow
  node->step(pre_vote_response(2, 1, 1, true));
  ASSERT_EQ(node->role(), RaftRole::kCandidate);
  const int timeout = node->randomized_election_timeout_ticks();
  for (int i = 1; i < timeout; ++i) node->tick();
  EXPECT_EQ(node->role(), RaftRole::kCandidate);
  EXPECT_EQ(node->term(), 1U);
}

}  // namespace
}  // namespace dengine::raft::test

namespace dengine::raft::test {
namespace {

// campaign(): a sole voter (a single-node engine) starts its election at once, and leads once
// its own vote is durable, without a single tick.
TEST(RaftCampaign, SoleVoterLeadsWithoutAnElectionTimeout) {
  auto node = NodeBuilder(ConfigBuilder(1, {1}).build()).build();
  ASSERT_TRUE(node->campaign());
  drain_node(*node);  // persists the vote (the helper reports every write durable)
  EXPECT_EQ(node->role(), RaftRole::kLeader);
  EXPECT_EQ(node->term(), 1U);
}

// Other voters may hold a leader's lease on this node's promise not to campaign before an
// election timeout: only a sole voter may skip it.
TEST(RaftCampaign, IsRefusedWhenOtherVotersExist) {
  auto node = lone_voter(/*pre_vote=*/true);
  Status refused = node->campaign();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->term(), 0U);
}

}  // namespace
}  // namespace dengine::raft::test
