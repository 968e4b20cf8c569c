// etcd's strict reconfiguration checks, made by the leader before a change enters the log:
// a learner is promoted only once it has caught up, and a live voter is removed only if the
// voters that still answer form a quorum without it. Time runs on the manual clock.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/reconfig_checks.h"
#include "tests/runtime/cluster_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

bool holds(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

class ReconfigTest : public ClusterTest {
 protected:
  struct Voters {
    NodeId leader = kNoNode;
    NodeId down = kNoNode;   // a follower, stopped
    NodeId alive = kNoNode;  // the other follower
  };
  // Three voters with one follower stopped, and the leader past two check-quorum rounds: it no
  // longer counts the stopped voter as heard from.
  Voters three_voters_one_down() {
    start_cluster({1, 2, 3});
    Voters voters;
    voters.leader = await_leader();
    if (voters.leader == kNoNode) return voters;
    voters.down = follower_of(voters.leader);
    for (NodeId id : {1, 2, 3}) {
      if (id != voters.leader && id != voters.down) voters.alive = id;
    }
    stop_node(voters.down);
    run_clock_for(std::chrono::seconds(3));
    return voters;
  }
};
INSTANTIATE_TEST_SUITE_P(Storage, ReconfigTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(ReconfigTest, ALearnerIsPromotedOnlyOnceItHasCaughtUp) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  for (int i = 0; i < 50; ++i) {
    ASSERT_NE(put_until_acknowledged(kv(leader), "k" + std::to_string(i), "v"), 0);
  }
  ASSERT_TRUE(engine(leader).add_learner(4));

  // Its engine has not even started: its log is empty.
  const Status early = engine(leader).promote(4);
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition) << early.to_string();
  EXPECT_EQ(early.detail(), ErrorDetail::kLearnerNotInSync) << early.to_string();
  EXPECT_NE(early.message().find("learner 4 holds the log up to index 0"), std::string::npos)
      << early.message();
  EXPECT_TRUE(holds(engine(leader).members().learners, 4));

  start_node(4, {1, 2, 3});
  Status promoted;
  ASSERT_TRUE(run_clock_until(
      [&] {
        promoted = engine(leader).promote(4);
        return promoted.is_ok();
      },
      seconds(20)))
      << promoted.to_string();
  EXPECT_TRUE(holds(engine(leader).members().voters, 4));
}

TEST_P(ReconfigTest, ARemovalThatWouldLeaveNoAnsweringQuorumIsRefused) {
  const auto [leader, down, alive] = three_voters_one_down();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(engine(leader).is_leader());

  const Status refused = engine(leader).remove_member(alive);
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.to_string();
  EXPECT_EQ(refused.detail(), ErrorDetail::kUnhealthyCluster) << refused.to_string();
  EXPECT_TRUE(holds(engine(leader).members().voters, alive));

  // The voter that is down holds no quorum up: it may go.
  const Status removed = engine(leader).remove_member(down);
  ASSERT_TRUE(removed) << removed.to_string();
  EXPECT_FALSE(holds(engine(leader).members().voters, down));
  ASSERT_NE(put_until_acknowledged(kv(leader), "after", "removal"), 0);
}

TEST_P(ReconfigTest, AVoterIsNotAddedWhileAVoterIsSilent) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  stop_node(follower_of(leader));
  run_clock_for(seconds(3));
  const Status refused = engine(leader).add_voter(4);
  EXPECT_EQ(refused.detail(), ErrorDetail::kUnhealthyCluster) << refused.to_string();
  EXPECT_FALSE(holds(engine(leader).members().voters, 4));
}

// A new leader presumes its followers active for a check-quorum round (so that it does not
// step down at once); that must not let a voter be added while one of them is down. Without
// the distinction, the change entered the log and its joint configuration, which needs 3 of
// {1, 2, 3, 4} with two of them down, stalled every later write.
TEST_P(ReconfigTest, AVoterIsNotAddedJustAfterAnElectionWhileAVoterIsDown) {
  const auto [first, down, next] = three_voters_one_down();
  ASSERT_NE(first, kNoNode);
  ASSERT_TRUE(engine(first).is_leader());
  ASSERT_TRUE(engine(first).transfer_leadership(next));
  // Readiness takes a heartbeat round or two (more ticks under TSan, whose messages lag the
  // clock); 1.5 election timeouts stays inside the two check-quorum rounds after which the new
  // leader would no longer presume the stopped voter active.
  ASSERT_TRUE(run_clock_until([&] { return engine(next).wait_ready(milliseconds(0)).is_ok(); },
                              milliseconds(1'500)));
  ASSERT_TRUE(engine(next).is_leader());

  const Status refused = engine(next).add_voter(4, milliseconds(2'000));
  EXPECT_EQ(refused.detail(), ErrorDetail::kUnhealthyCluster) << refused.to_string();
  EXPECT_FALSE(holds(engine(next).members().voters, 4));
  // The voter that answers still counts: removing the one that is down is allowed.
  const Status removed = engine(next).remove_member(down);
  EXPECT_TRUE(removed) << removed.to_string();
}

// The limit is the leader's to keep: a member whose applied configuration lags (or two
// members asked at once) would otherwise each count fewer learners than there are.
TEST_P(ReconfigTest, TheLeaderRefusesALearnerPastTheLimitWhicheverMemberIsAsked) {
  adjust_options_ = [](EngineOptions& options) { options.max_learners = 1; };
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId follower = follower_of(leader);
  ASSERT_TRUE(engine(follower).add_learner(4));
  // A single change is in force on the member asked once the call returns; the leader, whose
  // own write of the entry may still be on its way to disk, follows a moment later (until then
  // it refuses any change as still pending).
  ASSERT_TRUE(
      run_clock_until([&] { return holds(engine(leader).members().learners, 4); }, seconds(5)));

  const Status refused = engine(follower).add_learner(5);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.to_string();
  EXPECT_EQ(refused.detail(), ErrorDetail::kTooManyLearners) << refused.to_string();
  EXPECT_FALSE(holds(engine(leader).members().learners, 5));
  // Asking for the same learner again is refused as that, not as one learner too many.
  const Status again = engine(leader).add_learner(4);
  EXPECT_NE(again.detail(), ErrorDetail::kTooManyLearners) << again.to_string();

  ASSERT_TRUE(engine(leader).remove_member(4));
  const Status added = engine(follower).add_learner(5);
  EXPECT_TRUE(added) << added.to_string();
  EXPECT_TRUE(holds(engine(follower).members().learners, 5));
  EXPECT_TRUE(
      run_clock_until([&] { return holds(engine(leader).members().learners, 5); }, seconds(5)));
}

}  // namespace
}  // namespace dengine::runtime::test
