// How fast the deterministic simulator (tests/sim/) runs: simulated seconds per wall-clock
// second and wall milliseconds per seed, for 3- and 5-node clusters under every fault (the
// default SimOptions). This bounds how many seeds a CI sweep can afford.
//
//   BM_SimulatorSeeds/nodes:N/seeds:S  each iteration runs the same S seeds, so every iteration
//                                      does the same work and runs are comparable
//
// Seeds follow the ctest sweep's numbering (nodes * 1'000'000 + 1, ...), so the seeds timed
// here are seeds the test suite also runs. A failing seed stops the benchmark with its reason.

#include <chrono>
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include "tests/sim/simulation.h"

namespace {

using dengine::sim::run_seed;
using dengine::sim::SeedResult;
using dengine::sim::SimOptions;
using dengine::sim::SimStats;

constexpr double kMicrosPerSecond = 1e6;

void BM_SimulatorSeeds(benchmark::State& state) {
  const auto nodes = static_cast<int>(state.range(0));
  const auto seeds = static_cast<uint64_t>(state.range(1));
  const uint64_t first_seed = static_cast<uint64_t>(nodes) * 1'000'000 + 1;
  SimOptions options;
  options.nodes = nodes;
  SimStats total;
  uint64_t seeds_run = 0;
  const auto wall_start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
      options.seed = seed;
      const SeedResult result = run_seed(options);
      if (!result.passed) {
        const std::string why = "seed " + std::to_string(seed) + " failed: " + result.failure;
        state.SkipWithError(why.c_str());
        return;
      }
      total.add(result.stats);
      ++seeds_run;
    }
  }
  const std::chrono::duration<double, std::milli> wall =
      std::chrono::steady_clock::now() - wall_start;
  const double virtual_seconds = static_cast<double>(total.virtual_time) / kMicrosPerSecond;
  state.counters["sim_s_per_wall_s"] =
      benchmark::Counter(virtual_seconds, benchmark::Counter::kIsRate);
  state.counters["ms_per_seed"] = wall.count() / static_cast<double>(seeds_run);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(total.events), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(seeds_run));  // seeds per second
}

// Real time, not CPU time: the counters are per wall second. One seed runs a 6 s fault phase
// and then waits for liveness, roughly 10 simulated seconds. The run lasts libbenchmark's
// default --benchmark_min_time (0.5 s), at least one iteration of all S seeds.
BENCHMARK(BM_SimulatorSeeds)
    ->ArgNames({"nodes", "seeds"})
    ->Args({3, 20})
    ->Args({5, 20})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
