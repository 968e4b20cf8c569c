#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the default test suite:
#   1. Release build (warnings are errors) and every CTest test, simulator seed sweeps included;
#   2. the core, simulator and runtime tests again under ASan+UBSan (fewer seeds);
#   3. the core and runtime tests under TSan (the runtime with the in-process transport);
#   4. each libFuzzer target for a bounded time (scripts/fuzz.sh; DENGINE_FUZZ_SECONDS, 30 s).
# Prints the wall time of each phase. Long soaks live in scripts/soak.sh.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/phases.sh"

total_started=$(date +%s)

phase "install dependencies"
bash scripts/install-deps.sh
phase_done

phase "release: configure and build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
phase_done

phase "release: tests"
ctest --preset release -j "$jobs"
phase_done

phase "asan+ubsan: configure and build core tests"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
phase_done

phase "asan+ubsan: core, simulator and runtime tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --preset asan -j "$jobs" -L 'core|runtime'
phase_done

phase "tsan: configure and build core tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target raft_test sim_test log_test kv_test runtime_test
phase_done

phase "tsan: core and runtime tests"
TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -j "$jobs" -L 'core|runtime' -E '^sim\.'
phase_done

phase "fuzz: build and run each target for ${DENGINE_FUZZ_SECONDS:-30} s"
DENGINE_FUZZ_SECONDS=${DENGINE_FUZZ_SECONDS:-30} bash scripts/fuzz.sh
phase_done

echo "==> all phases passed in $(($(date +%s) - total_started)) s"
