// RaftNode's API edges: config validation, recovered state, and propose's errors.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

Status create_status(const RaftConfig& config, RaftBootState boot = {}) {
  return RaftNode::create(config, std::move(boot)).status();
}

// ---- config ----

// The tests' defaults are themselves a valid configuration.
TEST(RaftConfig, DefaultsOfBuilderAreValid) {
  EXPECT_TRUE(ConfigBuilder(1, {1, 2, 3}).build().validate().is_ok());
}

// Raft §5.2: only a member of the configuration can campaign and count its own vote.
TEST(RaftConfig, NodeOutsideItsVotersIsAJoiningNodeThatNeverCampaigns) {
  auto node = NodeBuilder(ConfigBuilder(4, {1, 2, 3}).build()).build();
  for (int tick = 0; tick < 100; ++tick) node->tick();
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->term(), 0U);
}

// dengine/types.h: node id 0 means "no node" (kNoNode) and is never a member.
TEST(RaftConfig, IdZeroIsReserved) {
  EXPECT_EQ(create_status(ConfigBuilder(0, {0, 1, 2}).build()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(create_status(ConfigBuilder(1, {0, 1, 2}).build()).code(),
            StatusCode::kInvalidArgument);
}

// Thesis §3.4: broadcastTime << electionTimeout, or followers time out between heartbeats.
TEST(RaftConfig, ElectionTimeoutMustExceedHeartbeatInterval) {
  for (int election : {1, 2}) {
    const Status status = create_status(
        ConfigBuilder(1, {1}).election_timeout_ticks(election).heartbeat_interval_ticks(2).build());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << "election " << election;
    EXPECT_NE(status.message().find("election_timeout_ticks"), std::string::npos);
  }
  EXPECT_TRUE(ConfigBuilder(1, {1})
                  .election_timeout_ticks(3)
                  .heartbeat_interval_ticks(2)
                  .build()
                  .validate()
                  .is_ok());
}

// STYLE.md "Errors and limits": every bound is named and must allow progress.
TEST(RaftConfig, LimitsMustBePositive) {
  EXPECT_EQ(ConfigBuilder(1, {1}).heartbeat_interval_ticks(0).build().validate().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigBuilder(1, {1}).max_inflight(0, 100).build().validate().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigBuilder(1, {1}).max_inflight(10, 0).build().validate().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigBuilder(1, {1}).max_append_bytes(0).build().validate().code(),
            StatusCode::kInvalidArgument);
}

// ---- recovered state ----

TEST(RaftBoot, RecoveredStateIsRestored) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 1, 2})
                  .hard_state(3, 2, 2)
                  .applied(1)
                  .build();
  EXPECT_EQ(node->term(), 3U);
  EXPECT_EQ(node->vote(), 2U);
  EXPECT_EQ(node->role(), RaftRole::kFollower);
  EXPECT_EQ(node->log().last_index(), 3U);
  EXPECT_EQ(node->log().committed(), 2U);
  EXPECT_EQ(node->log().stable(), 3U) << "recovered entries are durable";
  const std::vector<Message> none = drain_messages(*node);
  EXPECT_TRUE(none.empty());
}

// A recovered log with a hole is damage, not something to run on.
TEST(RaftBoot, NonContiguousRecoveredLogIsCorruption) {
  RaftBootState boot;
  boot.entries = log_with_terms({1, 1, 1});
  boot.entries[2].index = 4;
  EXPECT_EQ(create_status(ConfigBuilder(1, {1}).build(), boot).code(), StatusCode::kCorruption);
}

// A commit index past the recovered log means acknowledged entries were lost.
TEST(RaftBoot, RecoveredCommitPastLastEntryIsCorruption) {
  RaftBootState boot;
  boot.entries = log_with_terms({1, 1});
  boot.hard_state = HardState{.term = 1, .vote = kNoNode, .commit = 3};
  EXPECT_EQ(create_status(ConfigBuilder(1, {1}).build(), boot).code(), StatusCode::kCorruption);
}

// Raft Figure 2: currentTerm is at least the term of every entry in the log, so a recovered
// log with a newer term than the recovered hard state is damage.
TEST(RaftBoot, RecoveredLogNewerThanHardStateTermIsCorruption) {
  RaftBootState boot;
  boot.entries = log_with_terms({1, 3});
  boot.hard_state = HardState{.term = 1, .vote = kNoNode, .commit = 0};
  EXPECT_EQ(create_status(ConfigBuilder(1, {1}).build(), boot).code(), StatusCode::kCorruption);
}

// The Ready contract: on_applied reports only what a Ready delivered; the core checks it.
TEST(RaftBoot, ApplyingUndeliveredEntriesFailsCheck) {
  ScopedThrowingCheckHandler throwing;
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
                  .log_terms({1, 1})
                  .hard_state(1, kNoNode, 2)
                  .build();
  EXPECT_THROW(node->on_applied(2), CheckFailure);
}

// ---- propose ----

// Raft §8: "If the client contacts a follower, the follower rejects the request and supplies
// information about the most recent leader it has heard from."
TEST(RaftPropose, FollowerRefusesNamingTheLeader) {
  TestNetwork net(3);
  net.elect(1);
  const Result<Index> result = net.node(2).propose("x");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kNotLeader);
  EXPECT_NE(result.status().message().find("leader is 1"), std::string::npos)
      << result.status().to_string();
}

// Raft §8: with no leader known, the refusal says so rather than naming a stale one.
TEST(RaftPropose, NodeWithoutKnownLeaderRefusesSayingSo) {
  auto node = NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build()).build();
  const Result<Index> result = node->propose("x");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kNotLeader);
  EXPECT_NE(result.status().message().find("no leader known"), std::string::npos);
}

// STYLE.md "Errors and limits": a proposal over max_entry_bytes is refused with a clear error.
TEST(RaftPropose, OversizedEntryIsInvalidArgument) {
  TestNetwork net(1, [](ConfigBuilder& b) { b.max_entry_bytes(8); });
  net.elect(1);
  EXPECT_TRUE(net.node(1).propose(std::string(8, 'x')).has_value());
  const Result<Index> result = net.node(1).propose(std::string(9, 'x'));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("max_entry_bytes"), std::string::npos);
}

// Thesis §10.2.1 (docs/architecture.md §9: every bound has a clear error): a leader that cannot
// commit refuses proposals once its uncommitted tail holds max_uncommitted_bytes, and accepts them
// again once entries commit.
TEST(RaftPropose, UncommittedBytesBeyondLimitIsResourceExhausted) {
  TestNetwork net(3, [](ConfigBuilder& b) { b.max_uncommitted_bytes(10); });
  net.elect(1);
  net.isolate(1);
  ASSERT_TRUE(net.node(1).propose(std::string(6, 'a')).has_value());
  const Result<Index> result = net.node(1).propose(std::string(6, 'b'));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(result.status().message().find("max_uncommitted_bytes"), std::string::npos);

  net.heal();
  net.tick(1);
  net.deliver_all();
  ASSERT_EQ(net.node(1).log().committed(), net.node(1).log().last_index());
  EXPECT_TRUE(net.node(1).propose(std::string(6, 'c')).has_value());
}

}  // namespace
}  // namespace dengine::raft::test
