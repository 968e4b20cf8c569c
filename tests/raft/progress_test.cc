// Progress, Inflights (etcd-raft's flow control) and MajorityConfig (Raft §5.2, §5.3 quorums).

#include "raft/progress.h"

#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "raft/majority.h"

namespace dengine::raft {
namespace {

// ---- Inflights ----

// etcd-raft flow control: at most max_inflight_messages unacknowledged appends per follower.
TEST(RaftInflights, WindowIsFullByMessageCount) {
  Inflights inflights(2, 1000);
  inflights.add(1, 10);
  EXPECT_FALSE(inflights.full());
  inflights.add(2, 10);
  EXPECT_TRUE(inflights.full());
  EXPECT_EQ(inflights.count(), 2U);
}

// etcd-raft flow control: and at most max_inflight_bytes of entry data.
TEST(RaftInflights, WindowIsFullByBytes) {
  Inflights inflights(10, 100);
  inflights.add(1, 60);
  EXPECT_FALSE(inflights.full());
  inflights.add(2, 40);
  EXPECT_TRUE(inflights.full());
  EXPECT_EQ(inflights.bytes(), 100U);
}

// One message larger than the byte bound may still go out, or a large entry could never be
// replicated.
TEST(RaftInflights, EmptyWindowAcceptsOneOversizedMessage) {
  Inflights inflights(10, 100);
  EXPECT_FALSE(inflights.full());
  inflights.add(1, 500);
  EXPECT_TRUE(inflights.full());
}

// An acknowledgement of index i frees every message that ended at or before i.
TEST(RaftInflights, FreeUpToReleasesAcknowledgedMessages) {
  Inflights inflights(3, 1000);
  inflights.add(1, 10);
  inflights.add(2, 10);
  inflights.add(3, 10);
  ASSERT_TRUE(inflights.full());
  inflights.free_up_to(2);
  EXPECT_EQ(inflights.count(), 1U);
  EXPECT_EQ(inflights.bytes(), 10U);
  EXPECT_FALSE(inflights.full());
  inflights.free_up_to(1);  // an older acknowledgement frees nothing more
  EXPECT_EQ(inflights.count(), 1U);
  inflights.free_up_to(7);
  EXPECT_EQ(inflights.count(), 0U);
  EXPECT_EQ(inflights.bytes(), 0U);
}

// Changing state (probe <-> replicate) forgets what was in flight.
TEST(RaftInflights, ResetEmptiesTheWindow) {
  Inflights inflights(2, 1000);
  inflights.add(1, 10);
  inflights.add(2, 10);
  inflights.reset();
  EXPECT_EQ(inflights.count(), 0U);
  EXPECT_EQ(inflights.bytes(), 0U);
  EXPECT_FALSE(inflights.full());
}

// ---- Progress ----

Progress progress(Index next) {
  return Progress(next, 4, 1000);
}

// etcd-raft: in probe state one append is outstanding at a time, and next only moves on an
// answer.
TEST(RaftProgress, ProbeSendsOneAppendAtATime) {
  Progress pr = progress(5);
  EXPECT_EQ(pr.state(), Progress::State::kProbe);
  EXPECT_FALSE(pr.is_paused());
  pr.sent_entries(7, 10);
  EXPECT_TRUE(pr.is_paused());
  EXPECT_EQ(pr.next(), 5U);
  EXPECT_TRUE(pr.maybe_update(7));
  EXPECT_EQ(pr.match(), 7U);
  EXPECT_EQ(pr.next(), 8U);
  EXPECT_FALSE(pr.is_paused());
}

// A heartbeat answer proves the follower reachable: another probe may go.
TEST(RaftProgress, ResumeProbeUnpauses) {
  Progress pr = progress(5);
  pr.sent_probe();
  EXPECT_TRUE(pr.is_paused());
  pr.resume_probe();
  EXPECT_FALSE(pr.is_paused());
}

// etcd-raft: in replicate state appends stream optimistically, bounded by the window.
TEST(RaftProgress, ReplicateStreamsOptimisticallyWithinWindow) {
  Progress pr = progress(5);
  ASSERT_TRUE(pr.maybe_update(4));
  pr.become_replicate();
  EXPECT_EQ(pr.next(), 5U);
  for (Index last = 5; last <= 8; ++last) {
    EXPECT_FALSE(pr.is_paused());
    pr.sent_entries(last, 10);
    EXPECT_EQ(pr.next(), last + 1);
  }
  EXPECT_TRUE(pr.is_paused()) << "4 messages fill the window";
  pr.maybe_update(6);
  EXPECT_FALSE(pr.is_paused());
  EXPECT_EQ(pr.inflights().count(), 2U);
}

// An acknowledgement older than match changes nothing.
TEST(RaftProgress, MaybeUpdateIgnoresStaleAcknowledgement) {
  Progress pr = progress(5);
  EXPECT_TRUE(pr.maybe_update(5));
  EXPECT_FALSE(pr.maybe_update(3));
  EXPECT_EQ(pr.match(), 5U);
  EXPECT_EQ(pr.next(), 6U);
}

// In probe state only the answer to the outstanding probe (at next - 1) counts.
TEST(RaftProgress, MaybeDecreaseNextIgnoresStaleRejectionInProbe) {
  Progress pr = progress(10);
  pr.sent_probe();
  EXPECT_FALSE(pr.maybe_decrease_next(5, 3));
  EXPECT_EQ(pr.next(), 10U);
  EXPECT_TRUE(pr.is_paused());
  EXPECT_TRUE(pr.maybe_decrease_next(9, 3));
  EXPECT_EQ(pr.next(), 4U) << "just past the follower's hint";
  EXPECT_FALSE(pr.is_paused());
}

// Raft §5.3: next never falls to or below match, whatever the hint.
TEST(RaftProgress, MaybeDecreaseNextStaysAboveMatch) {
  Progress pr = progress(10);
  ASSERT_TRUE(pr.maybe_update(5));
  ASSERT_EQ(pr.next(), 10U);
  EXPECT_TRUE(pr.maybe_decrease_next(9, 2));
  EXPECT_EQ(pr.next(), 6U);
}

// In replicate state a rejection at or below match answers an older message.
TEST(RaftProgress, MaybeDecreaseNextIgnoresStaleRejectionInReplicate) {
  Progress pr = progress(6);
  ASSERT_TRUE(pr.maybe_update(5));
  pr.become_replicate();
  pr.sent_entries(8, 10);
  ASSERT_EQ(pr.next(), 9U);
  EXPECT_FALSE(pr.maybe_decrease_next(4, 0));
  EXPECT_FALSE(pr.maybe_decrease_next(5, 0));
  EXPECT_EQ(pr.next(), 9U);
  EXPECT_TRUE(pr.maybe_decrease_next(7, 0));
  EXPECT_EQ(pr.next(), 6U) << "falls back to just past match";
}

// Raft §5.3: probing resumes where the follower's log may end, never at or before match.
TEST(RaftProgress, BecomeProbeStartsAtHintButAfterMatch) {
  Progress pr = progress(4);
  ASSERT_TRUE(pr.maybe_update(3));
  pr.become_replicate();
  pr.sent_entries(9, 10);
  ASSERT_EQ(pr.next(), 10U);
  pr.become_probe(6);
  EXPECT_EQ(pr.state(), Progress::State::kProbe);
  EXPECT_EQ(pr.next(), 6U);
  EXPECT_EQ(pr.inflights().count(), 0U);
  pr.become_probe(1);
  EXPECT_EQ(pr.next(), 4U);
}

// ---- MajorityConfig ----

// Raft §5.3: the highest index stored on a majority.
TEST(RaftMajority, CommittedIndexIsHighestIndexOnMajority) {
  struct Case {
    std::map<NodeId, Index> match;
    Index expected;
  };
  const std::vector<Case> cases = {
      {{{1, 5}}, 5},
      {{{1, 5}, {2, 3}, {3, 1}}, 3},
      {{{1, 5}, {2, 4}, {3, 3}, {4, 1}}, 3},  // 3 of 4 hold 3
      {{{1, 9}, {2, 7}, {3, 5}, {4, 3}, {5, 1}}, 5},
      {{{1, 1}, {2, 9}, {3, 9}, {4, 0}, {5, 0}}, 1},
  };
  for (const Case& c : cases) {
    std::vector<NodeId> voters;
    for (const auto& [id, index] : c.match) voters.push_back(id);
    const MajorityConfig config(voters);
    EXPECT_EQ(config.committed_index([&](NodeId id) { return c.match.at(id); }), c.expected)
        << voters.size() << " voters";
  }
  EXPECT_EQ(MajorityConfig().committed_index([](NodeId) { return Index{7}; }), 0U);
}

// Raft §5.2: a majority of the voters, counted once each.
TEST(RaftMajority, QuorumIsMoreThanHalf) {
  EXPECT_EQ(MajorityConfig({1}).quorum(), 1U);
  EXPECT_EQ(MajorityConfig({1, 2}).quorum(), 2U);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).quorum(), 2U);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).quorum(), 3U);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4, 5}).quorum(), 3U);
  EXPECT_EQ(MajorityConfig({3, 1, 3, 2}).voters(), (std::vector<NodeId>{1, 2, 3}));
}

// Raft §5.2: won with a majority of grants, lost once a majority can no longer be reached.
TEST(RaftMajority, VoteResultIsWonLostOrPending) {
  struct Case {
    std::vector<NodeId> voters;
    std::map<NodeId, bool> votes;
    VoteResult expected;
  };
  const std::vector<Case> cases = {
      {{1, 2, 3}, {}, VoteResult::kPending},
      {{1, 2, 3}, {{1, true}}, VoteResult::kPending},
      {{1, 2, 3}, {{1, true}, {2, true}}, VoteResult::kWon},
      {{1, 2, 3}, {{1, true}, {2, false}}, VoteResult::kPending},
      {{1, 2, 3}, {{1, true}, {2, false}, {3, false}}, VoteResult::kLost},
      {{1, 2, 3, 4}, {{1, true}, {2, true}}, VoteResult::kPending},
      {{1, 2, 3, 4}, {{1, true}, {2, true}, {3, true}}, VoteResult::kWon},
      {{1, 2, 3, 4}, {{1, true}, {2, false}, {3, false}}, VoteResult::kLost},
      {{1}, {{1, true}}, VoteResult::kWon},
      {{1, 2, 3}, {{1, true}, {8, true}, {9, true}}, VoteResult::kPending},  // non-voters
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    EXPECT_EQ(MajorityConfig(c.voters).vote_result(c.votes), c.expected) << "case " << i;
  }
}

// Thesis §6.2 (check-quorum): whether a majority has been heard from.
TEST(RaftMajority, QuorumSatisfies) {
  const MajorityConfig config({1, 2, 3, 4, 5});
  EXPECT_TRUE(config.quorum_satisfies([](NodeId id) { return id <= 3; }));
  EXPECT_FALSE(config.quorum_satisfies([](NodeId id) { return id <= 2; }));
}

}  // namespace
}  // namespace dengine::raft
