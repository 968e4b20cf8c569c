#!/usr/bin/env bash
# Builds the libFuzzer targets (the "fuzz" preset: clang++-14, ASan+UBSan, build-fuzz/) and
# runs each for a bounded time on a copy of its seed corpus (tests/fuzz/corpus/<target>), so
# the repo is never modified. Prints the wall time of each phase.
#   DENGINE_FUZZ_SECONDS  seconds per target (default 30)
#   DENGINE_FUZZ_TARGETS  space-separated targets (default: all of them)
# Exits non-zero if any target crashes, leaks, times out or trips a sanitizer; the input that
# did it is kept in build-fuzz/crashes/ (rerun: build-fuzz/tests/fuzz/<target> <file>).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/phases.sh"
seconds=${DENGINE_FUZZ_SECONDS:-30}
read -r -a targets <<<"${DENGINE_FUZZ_TARGETS:-fuzz_wal_record fuzz_snapshot_chunk fuzz_kv_command}"

# clang++-14 and libFuzzer's runtime (libclang-rt-14-dev).
fuzzer_toolchain_present() {
  command -v clang++-14 >/dev/null 2>&1 &&
    [[ -f "$(clang++-14 -print-runtime-dir)/libclang_rt.fuzzer-$(uname -m).a" ]]
}

total_started=$(date +%s)

if ! fuzzer_toolchain_present; then
  phase "fuzz: install clang-14 and libclang-rt-14-dev"
  bash scripts/install-deps.sh
  phase_done
fi

phase "fuzz: configure and build"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
phase_done

work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
crashes="$repo/build-fuzz/crashes"
mkdir -p "$crashes"

failed=()
for target in "${targets[@]}"; do
  phase "fuzz: ${target} for ${seconds} s"
  corpus="$work/corpus-$target"
  mkdir -p "$corpus"
  cp -R "tests/fuzz/corpus/$target/." "$corpus/"
  seeds=$(find "$corpus" -type f | wc -l)
  log="$work/$target.log"
  if "build-fuzz/tests/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$crashes/$target-" "$corpus" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    echo "${target}: ${execs:-?} runs, ${rate:-?} execs/s, ${cov:-no coverage line}," \
      "corpus ${seeds} -> $(find "$corpus" -type f | wc -l) inputs, peak RSS ${rss:-?} MB"
  else
    failed+=("$target")
    tail -n 80 "$log"
    echo "${target}: FAILED (crash input in ${crashes}/)"
  fi
  phase_done
done

echo "==> fuzz: $((${#targets[@]} - ${#failed[@]})) of ${#targets[@]} targets clean in" \
  "$(($(date +%s) - total_started)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "==> fuzz: failing targets: ${failed[*]}" >&2
  exit 1
fi
