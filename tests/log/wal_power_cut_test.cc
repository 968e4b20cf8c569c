// Random appends, truncations, syncs, compactions and process deaths, then a power cut at a
// random point; recovery must keep every synced entry and the last synced hard state, require
// nothing unsynced, and leave no garbage after the tail. Many seeds; a failure names its seed.
#include <cstdio>

#include <gtest/gtest.h>

#include "tests/log/wal_test_util.h"

namespace dengine::log {
namespace {

using testing::Rng;
using testing::WalDriver;

constexpr uint64_t kSeeds = 2000;
constexpr int kRoundsPerSeed = 4;

struct Counts {
  uint64_t power_cuts = 0;
  uint64_t torn_tails = 0;
  uint64_t other_repairs = 0;
  uint64_t unsynced_appends_at_cut = 0;
  uint64_t process_deaths = 0;
  uint64_t compactions = 0;
  uint64_t resets = 0;
  uint64_t truncations = 0;
  uint64_t clean_reopens = 0;
  uint64_t entries_checked = 0;
};

PowerCutOptions random_power_cut(Rng& rng) {
  PowerCutOptions options;
  options.keep_unsynced_prefix = rng.chance(2);
  options.random_pages = rng.chance(4);
  options.tear_page = !rng.chance(3);
  options.garbage = rng.chance(2);
  options.keep_dir_ops_prefix = rng.chance(2);
  return options;
}

// Returns false (after recording a test failure) when the seed fails.
bool run_seed(uint64_t seed, Counts& counts) {
  Rng rng(seed);
  auto fs = std::make_shared<FaultInjectingFileSystem>(seed);
  const uint64_t segment_bytes = 4096ULL << rng.uniform(3);
  WalDriver driver(fs, WalOptions{.segment_bytes = segment_bytes});
  Result<RecoveredLog> opened = driver.open();
  EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
  if (!opened) return false;
  Term term = 1;
  for (int round = 0; round < kRoundsPerSeed; ++round) {
    const uint64_t steps = rng.range(5, 60);
    bool dead = false;  // the process died (injected): nothing more runs until the power cut
    for (uint64_t step = 0; step < steps && !dead; ++step) {
      const uint64_t dice = rng.uniform(100);
      Status st;
      if (dice < 55) {
        const Index last = driver.current().last_index();
        st = driver.random_append(rng, term, segment_bytes / 3);
        const std::vector<testing::Op>& ops = driver.unsynced();
        if (st && !ops.empty() && !ops.back().entries.empty() &&
            ops.back().entries.front().index <= last) {
          ++counts.truncations;
        }
      } else if (dice < 82) {
        st = driver.sync();
      } else if (dice < 87) {
        st = driver.compact(rng.range(0, driver.current().hard_state.commit));
        ++counts.compactions;
      } else if (dice < 88) {
        // A snapshot from the leader, behind or ahead of the local log.
        const Index commit = driver.current().hard_state.commit;
        const Index index =
            rng.range(std::max<Index>(commit, 1), driver.current().last_index() + 20);
        st = driver.reset(index, ++term);
        ++counts.resets;
      } else if (dice < 92) {
        fs->crash_after_ops(rng.range(0, 12));  // dies somewhere in the next calls
        ++counts.process_deaths;
      } else {
        // A restart without a power cut: everything written is still there.
        driver.close();
        Result<RecoveredLog> recovered = driver.open();
        if (!recovered) {
          dead = true;  // an injected death hit the reopen
          continue;
        }
        const std::string problem = testing::mismatch(driver.current(), *recovered);
        EXPECT_EQ(problem, "") << "seed " << seed << " round " << round << " clean reopen";
        if (!problem.empty()) return false;
        ++counts.clean_reopens;
      }
      EXPECT_NE(st.code(), StatusCode::kInvalidArgument) << "seed " << seed << ": " << st.message();
      if (!st) dead = true;
    }
    counts.unsynced_appends_at_cut += driver.unsynced().size();
    fs->clear_faults();
    fs->power_cut(random_power_cut(rng));
    ++counts.power_cuts;
    driver.close();
    Result<RecoveredLog> recovered = driver.open();
    EXPECT_TRUE(recovered.has_value())
        << "seed " << seed << " round " << round << ": " << recovered.status().to_string();
    if (!recovered) return false;
    for (const std::string& repair : recovered->repairs) {
      if (repair.find("torn tail") != std::string::npos) {
        ++counts.torn_tails;
      } else {
        ++counts.other_repairs;
      }
    }
    counts.entries_checked += recovered->entries.size();
    std::string problem = driver.check_and_adopt(*recovered);
    EXPECT_EQ(problem, "") << "seed " << seed << " round " << round;
    if (!problem.empty()) return false;
    problem = driver.check_zeros_after_tail();
    EXPECT_EQ(problem, "") << "seed " << seed << " round " << round;
    if (!problem.empty()) return false;
  }
  return true;
}

TEST(WalPowerCut, EverySyncedEntrySurvivesRandomPowerCuts) {
  Counts counts;
  uint64_t failed = 0;
  for (uint64_t seed = 1; seed <= kSeeds && failed < 3; ++seed) {
    if (!run_seed(seed, counts)) ++failed;
  }
  RecordProperty("power_cuts", static_cast<int>(counts.power_cuts));
  RecordProperty("torn_tails", static_cast<int>(counts.torn_tails));
  std::printf(
      "wal power cuts: %llu seeds, %llu truncating appends, %llu compactions, %llu snapshot "
      "resets, %llu power cuts (%llu unsynced appends in flight), %llu process deaths, %llu clean "
      "reopens; recovery truncated %llu torn tails, made %llu other repairs, checked %llu "
      "entries\n",
      static_cast<unsigned long long>(kSeeds), static_cast<unsigned long long>(counts.truncations),
      static_cast<unsigned long long>(counts.compactions),
      static_cast<unsigned long long>(counts.resets),
      static_cast<unsigned long long>(counts.power_cuts),
      static_cast<unsigned long long>(counts.unsynced_appends_at_cut),
      static_cast<unsigned long long>(counts.process_deaths),
      static_cast<unsigned long long>(counts.clean_reopens),
      static_cast<unsigned long long>(counts.torn_tails),
      static_cast<unsigned long long>(counts.other_repairs),
      static_cast<unsigned long long>(counts.entries_checked));
  EXPECT_GT(counts.torn_tails, kSeeds / 5) << "the power cuts hardly ever tore anything";
}

}  // namespace
}  // namespace dengine::log
