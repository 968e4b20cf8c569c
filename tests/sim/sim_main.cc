// dengine-sim: runs the deterministic cluster simulator over many seeds.
//
//   dengine-sim --seeds N [--first-seed S] [--nodes 3|5|7] [--faults loss,delay,...]
//   dengine-sim --replay SEED [--nodes N] [--faults ...] --trace
//
// Exit code 0 only if every seed passed; the last line is a one-line summary.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/sim/simulation.h"

namespace {

using dengine::sim::FaultSet;
using dengine::sim::SimOptions;
using dengine::sim::SimStats;

void usage() {
  std::fprintf(stderr,
               "usage: dengine-sim --seeds N [--first-seed S] [--nodes 3|5|7] [--faults LIST]\n"
               "       dengine-sim --replay SEED [--nodes N] [--faults LIST] [--trace]\n"
               "faults: all (default), none, or a comma list of loss,delay,reorder,dup,partition,\n"
               "        oneway,clog,crash,slowdisk,pause,drift,transfer,membership\n");
}

bool parse_number(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 0;
  uint64_t first_seed = 1;
  uint64_t nodes = 3;
  bool replay = false;
  SimOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    const std::string_view value = has_value ? std::string_view(argv[i + 1]) : std::string_view{};
    auto number = [&](uint64_t* out) {
      if (!has_value || !parse_number(value, out)) {
        std::fprintf(stderr, "dengine-sim: %.*s needs a number\n", static_cast<int>(arg.size()),
                     arg.data());
        std::exit(2);
      }
      ++i;
    };
    if (arg == "--seeds") {
      number(&seeds);
    } else if (arg == "--first-seed") {
      number(&first_seed);
    } else if (arg == "--nodes") {
      number(&nodes);
    } else if (arg == "--replay") {
      number(&first_seed);
      seeds = 1;
      replay = true;
    } else if (arg == "--trace") {
      options.trace = true;
    } else if (arg == "--faults" && has_value) {
      std::string unknown;
      auto faults = FaultSet::parse(value, &unknown);
      if (!faults) {
        std::fprintf(stderr, "dengine-sim: unknown fault '%s'\n", unknown.c_str());
        usage();
        return 2;
      }
      options.faults = *faults;
      ++i;
    } else {
      std::fprintf(stderr, "dengine-sim: unknown argument '%.*s'\n", static_cast<int>(arg.size()),
                   arg.data());
      usage();
      return 2;
    }
  }
  if (seeds == 0) {
    std::fprintf(stderr, "dengine-sim: say how many seeds to run (--seeds N) or which to replay\n");
    usage();
    return 2;
  }
  if (nodes != 3 && nodes != 5 && nodes != 7) {
    std::fprintf(stderr, "dengine-sim: --nodes must be 3, 5 or 7 (got %llu)\n",
                 static_cast<unsigned long long>(nodes));
    usage();
    return 2;
  }
  options.nodes = static_cast<int>(nodes);

  const auto started = std::chrono::steady_clock::now();
  SimStats total;
  uint64_t failed = 0;
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    options.seed = seed;
    const dengine::sim::SeedResult result = dengine::sim::run_seed(options);
    total.add(result.stats);
    if (!result.passed) {
      ++failed;
      std::printf(
          "FAIL seed %llu: %s\n  replay: dengine-sim --replay %llu --nodes %llu --faults %s "
          "--trace\n",
          static_cast<unsigned long long>(seed), result.failure.c_str(),
          static_cast<unsigned long long>(seed), static_cast<unsigned long long>(nodes),
          options.faults.to_string().c_str());
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double simulated = static_cast<double>(total.virtual_time) / 1e6;
  std::printf(
      "dengine-sim: %s nodes=%llu seeds=%llu..%llu passed=%llu failed=%llu faults=%s "
      "elections=%llu leader_changes=%llu crashes=%llu partitions=%llu clogs=%llu "
      "slow_disks=%llu pauses=%llu snapshots_sent=%llu snapshots_installed=%llu compactions=%llu "
      "leader_transfers=%llu transfers_completed=%llu membership_changes=%llu messages=%llu "
      "dropped=%llu committed=%llu ops_ok=%llu ops_unknown=%llu "
      "reads_log=%llu reads_index=%llu reads_lease=%llu simulated=%.0fs wall=%.2fs (%.0f simulated "
      "s per wall s)%s\n",
      failed == 0 ? "PASS" : "FAIL", static_cast<unsigned long long>(nodes),
      static_cast<unsigned long long>(first_seed),
      static_cast<unsigned long long>(first_seed + seeds - 1),
      static_cast<unsigned long long>(seeds - failed), static_cast<unsigned long long>(failed),
      options.faults.to_string().c_str(), static_cast<unsigned long long>(total.elections),
      static_cast<unsigned long long>(total.leader_changes),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.clogs),
      static_cast<unsigned long long>(total.slow_disks),
      static_cast<unsigned long long>(total.pauses),
      static_cast<unsigned long long>(total.snapshots_sent),
      static_cast<unsigned long long>(total.snapshots_installed),
      static_cast<unsigned long long>(total.compactions),
      static_cast<unsigned long long>(total.leader_transfers),
      static_cast<unsigned long long>(total.leader_transfers_completed),
      static_cast<unsigned long long>(total.membership_changes),
      static_cast<unsigned long long>(total.messages),
      static_cast<unsigned long long>(total.messages_dropped),
      static_cast<unsigned long long>(total.entries_committed),
      static_cast<unsigned long long>(total.ops_ok),
      static_cast<unsigned long long>(total.ops_unknown),
      static_cast<unsigned long long>(total.reads_log),
      static_cast<unsigned long long>(total.reads_index),
      static_cast<unsigned long long>(total.reads_lease), simulated, wall,
      wall > 0 ? simulated / wall : 0.0, replay ? " (replay)" : "");
  return failed == 0 ? 0 : 1;
}
