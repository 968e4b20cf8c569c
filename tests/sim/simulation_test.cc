#include "tests/sim/simulation.h"

#include <gtest/gtest.h>

namespace dengine::sim {
namespace {

SimOptions options_for(int nodes, uint64_t seed) {
  SimOptions options;
  options.nodes = nodes;
  options.seed = seed;
  return options;
}

TEST(Simulation, FaultFreeRunCommitsAndIsLinearizable) {
  SimOptions options = options_for(3, 7);
  options.faults = FaultSet();
  const SeedResult result = run_seed(options);
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_GT(result.stats.ops_ok, 100U);
  EXPECT_EQ(result.stats.ops_unknown, 0U);
  EXPECT_GE(result.stats.leader_changes, 1U);
}

TEST(Simulation, SameSeedReplaysIdentically) {
  const SimOptions options = options_for(5, 42);
  const SeedResult first = run_seed(options);
  const SeedResult second = run_seed(options);
  EXPECT_EQ(first.passed, second.passed);
  EXPECT_EQ(first.stats.events, second.stats.events);
  EXPECT_EQ(first.stats.messages, second.stats.messages);
  EXPECT_EQ(first.stats.ops_ok, second.stats.ops_ok);
  EXPECT_EQ(first.stats.entries_committed, second.stats.entries_committed);
}

TEST(Simulation, DifferentSeedsTakeDifferentPaths) {
  const SeedResult a = run_seed(options_for(3, 1));
  const SeedResult b = run_seed(options_for(3, 2));
  EXPECT_NE(a.stats.events, b.stats.events);
}

TEST(Simulation, AllFaultsOnFiveNodesPass) {
  for (uint64_t seed = 100; seed < 110; ++seed) {
    const SeedResult result = run_seed(options_for(5, seed));
    EXPECT_TRUE(result.passed) << "seed " << seed << ": " << result.failure;
  }
}

TEST(Simulation, SevenNodeClusterPasses) {
  const SeedResult result = run_seed(options_for(7, 3));
  EXPECT_TRUE(result.passed) << result.failure;
}

TEST(FaultSet, ParsesNamesAndRejectsUnknownOnes) {
  std::string unknown;
  auto faults = FaultSet::parse("loss,crash", &unknown);
  ASSERT_TRUE(faults.has_value());
  EXPECT_TRUE(faults->has(Fault::kLoss));
  EXPECT_TRUE(faults->has(Fault::kCrash));
  EXPECT_FALSE(faults->has(Fault::kPartition));
  EXPECT_FALSE(FaultSet::parse("loss,meteor", &unknown).has_value());
  EXPECT_EQ(unknown, "meteor");
  EXPECT_EQ(FaultSet::all().to_string(), "all");
}

}  // namespace
}  // namespace dengine::sim
