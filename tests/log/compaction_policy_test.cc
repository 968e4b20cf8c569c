#include "log/compaction_policy.h"

#include <gtest/gtest.h>

namespace dengine::log {
namespace {

CompactionPolicy small_policy() {
  return CompactionPolicy{
      .snapshot_every_entries = 10, .snapshot_every_bytes = 1000, .retained_entries = 3};
}

TEST(CompactionPolicy, SnapshotIsDueAfterEnoughEntries) {
  CompactionPlanner planner(small_policy());
  for (Index i = 1; i <= 9; ++i) planner.on_applied(i, 1);
  EXPECT_FALSE(planner.snapshot_due());
  planner.on_applied(10, 1);
  EXPECT_TRUE(planner.snapshot_due());
}

TEST(CompactionPolicy, SnapshotIsDueAfterEnoughBytes) {
  CompactionPlanner planner(small_policy());
  planner.on_applied(1, 600);
  EXPECT_FALSE(planner.snapshot_due());
  planner.on_applied(2, 400);
  EXPECT_TRUE(planner.snapshot_due());
}

TEST(CompactionPolicy, TakingASnapshotResetsTheCounts) {
  CompactionPlanner planner(small_policy());
  for (Index i = 1; i <= 10; ++i) planner.on_applied(i, 1);
  planner.on_snapshot(10);
  EXPECT_FALSE(planner.snapshot_due());
  EXPECT_EQ(planner.entries_since_snapshot(), 0U);
  EXPECT_EQ(planner.bytes_since_snapshot(), 0U);
}

TEST(CompactionPolicy, ReplayedEntriesCountOnce) {
  CompactionPlanner planner(small_policy());
  for (Index i = 1; i <= 5; ++i) planner.on_applied(i, 1);
  for (Index i = 1; i <= 5; ++i) planner.on_applied(i, 1);
  EXPECT_EQ(planner.entries_since_snapshot(), 5U);
}

TEST(CompactionPolicy, EntriesCoveredByAnInstalledSnapshotDoNotCount) {
  CompactionPlanner planner(small_policy());
  planner.on_snapshot(100);  // installed from the leader
  planner.on_applied(100, 1);
  EXPECT_EQ(planner.entries_since_snapshot(), 0U);
  planner.on_applied(101, 1);
  EXPECT_EQ(planner.entries_since_snapshot(), 1U);
}

// docs/architecture.md §9: compaction stops at what the state machine made durable, not at the
// snapshot.
TEST(CompactionPolicy, LogIsKeptBehindWhatTheStateMachineMadeDurable) {
  CompactionPlanner planner(small_policy());
  planner.on_snapshot(50);
  EXPECT_EQ(planner.compact_to(20), 17U);  // durable 20, keep 3
  EXPECT_EQ(planner.compact_to(80), 47U);  // snapshot 50, keep 3
}

TEST(CompactionPolicy, RetainedTailKeepsShortLogsWhole) {
  CompactionPlanner planner(small_policy());
  planner.on_snapshot(3);
  EXPECT_EQ(planner.compact_to(100), 0U);
  EXPECT_EQ(CompactionPlanner(small_policy()).compact_to(100), 0U);  // no snapshot yet
}

TEST(CompactionPolicy, ZeroBoundsAreRefused) {
  CompactionPolicy policy;
  policy.snapshot_every_entries = 0;
  EXPECT_EQ(policy.validate().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CompactionPolicy{}.validate().is_ok());
}

}  // namespace
}  // namespace dengine::log
