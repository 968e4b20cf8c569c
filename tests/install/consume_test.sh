#!/usr/bin/env bash
# Usage: consume_test.sh CMAKE BUILD_DIR SOURCE_DIR CXX_COMPILER GENERATOR
# Installs the (already built) BUILD_DIR into a temporary prefix, builds the C++ and CMake code
# blocks of README.md's "## Quick start (C++)" as a project of their own against that prefix
# (find_package(dengine CONFIG)), runs the program on a fresh data directory and checks that it
# prints "hello = world". Every temporary directory is removed on exit; nothing depends on the
# current directory.
set -euo pipefail

cmake_bin=$1
build_dir=$2
src=$3
cxx=$4
generator=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM # so that the EXIT trap runs when ctest stops the test

# Runs a command quietly, printing its output only if it fails.
quiet() {
  local log="$work/step.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "FAILED: $*" >&2
    return 1
  fi
}

echo "-- install $build_dir into $work/prefix"
quiet "$cmake_bin" --install "$build_dir" --prefix "$work/prefix"

echo "-- every installed header is usable on its own"
headers=("$work/prefix/include/dengine/"*.h)
for header in "${headers[@]}"; do
  # Only the installed headers may be named: a header of src/ is not there for a user.
  if grep -nE '^#include "' "$header" | grep -vE '^[0-9]+:#include "dengine/'; then
    echo "FAILED: $header includes a header that is not installed" >&2
    exit 1
  fi
  echo "#include <dengine/$(basename "$header")>" >"$work/one_header.cc"
  quiet "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I "$work/prefix/include" \
    "$work/one_header.cc"
done
echo "   ${#headers[@]} headers"

echo "-- extract the README's quick start into $work/project"
bash "$here/extract_quick_start.sh" "$src/README.md" "$work/project"

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the temporary directory, so each run hits the previous one's cache.
  export CCACHE_BASEDIR="$work"
  export CCACHE_NOHASHDIR=1
fi

echo "-- configure and build it against the installed package"
quiet "$cmake_bin" -S "$work/project" -B "$work/build" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix"
quiet "$cmake_bin" --build "$work/build" -j 1

echo "-- run it on a fresh data directory"
"$work/build/quick-start-embedded" "$work/data" | tee "$work/run.log"
if ! grep -q "hello = world" "$work/run.log"; then
  echo "FAILED: the quick start did not print \"hello = world\"" >&2
  exit 1
fi
echo "-- build examples/embedded-node against the installed package (COMPONENTS cluster)"
quiet "$cmake_bin" -S "$src/examples/embedded-node" -B "$work/build-node" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix"
quiet "$cmake_bin" --build "$work/build-node" -j 1

echo "-- run it as a one-member cluster on ports the system picks, then SIGTERM"
any=http://127.0.0.1:0
"$work/build-node/embedded-node" --data-dir="$work/node-data" --listen-peer-urls=$any \
  --initial-advertise-peer-urls=$any --initial-cluster=default=$any --listen-client-urls=$any \
  --advertise-client-urls=$any >"$work/node.out" 2>"$work/node.err" &
node=$!
for _ in $(seq 1 200); do
  grep -q "leader is" "$work/node.out" && break
  sleep 0.05
done
kill -TERM "$node"
status=0
wait "$node" || status=$?
if ! grep -q "leader is" "$work/node.out" || [[ $status -ne 0 ]]; then
  cat "$work/node.out" "$work/node.err" >&2
  echo "FAILED: embedded-node did not lead its one-member cluster and stop cleanly (exit $status)" >&2
  exit 1
fi
echo "-- build the README's three-process quick start against the installed package"
bash "$here/extract_quick_start.sh" "$src/README.md" "$work/cluster-project" \
  "Quick start: three processes (C++)"
quiet "$cmake_bin" -S "$work/cluster-project" -B "$work/build-cluster" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix"
quiet "$cmake_bin" --build "$work/build-cluster" -j 1

# Three members on random high ports (never etcd's 2379/2380); another try on other ports when
# one cannot listen.
run_three() {
  local try=$1 base=$((20000 + RANDOM % 30000)) names=(a b c) cluster="" i
  for i in 0 1 2; do
    cluster+="${cluster:+,}${names[i]}=http://127.0.0.1:$((base + i))"
  done
  pids=()
  for i in 0 1 2; do
    local peer="http://127.0.0.1:$((base + i))"
    "$work/build-cluster/quick-start-cluster" --name "${names[i]}" \
      --data-dir "$work/cluster-$try/${names[i]}" --initial-cluster "$cluster" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      >"$work/cluster-$try/${names[i]}.out" 2>"$work/cluster-$try/${names[i]}.err" &
    pids+=($!)
  done
  local done_count=0
  for _ in $(seq 1 600); do
    done_count=0
    for i in 0 1 2; do
      grep -q "Ctrl-C stops it" "$work/cluster-$try/${names[i]}.out" && done_count=$((done_count + 1))
    done
    ((done_count == 3)) && break
    grep -qs "cannot listen" "$work/cluster-$try/"*.err && break
    sleep 0.05
  done
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local failed=0
  for i in 0 1 2; do wait "${pids[i]}" || failed=1; done
  if grep -qs "cannot listen" "$work/cluster-$try/"*.err; then return 2; fi
  if ((done_count != 3 || failed)); then
    tail -n 20 "$work/cluster-$try/"* >&2
    return 1
  fi
  for i in 0 1 2; do
    if ! grep -q "greeting/c = hello from c" "$work/cluster-$try/${names[i]}.out"; then
      cat "$work/cluster-$try/${names[i]}.out" >&2
      return 1
    fi
  done
}
echo "-- run three members of it, each sees the three greetings, then SIGTERM each"
result=2
for try in 1 2 3; do
  mkdir -p "$work/cluster-$try"
  result=0
  run_three "$try" || result=$?
  ((result == 2)) || break
done
if ((result != 0)); then
  echo "FAILED: the three-process quick start did not run as the README says" >&2
  exit 1
fi
echo "-- passed"
