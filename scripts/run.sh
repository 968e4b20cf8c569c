#!/usr/bin/env bash
# The README's run command. Until dengine-server exists, it demonstrates the Raft core: it
# builds dengine-sim if needed and runs a few seeds of a 5-node cluster under every fault.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export CCACHE_BASEDIR="$repo"
export CCACHE_NOHASHDIR=1

bash scripts/install-deps.sh >/dev/null
if [[ ! -x build/tests/sim/dengine-sim ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "${DENGINE_JOBS:-2}" --target dengine-sim
fi

echo "dengine-sim: 5-node clusters under loss, delay, reordering, duplication, partitions,"
echo "clogged links, crashes that lose unsynced writes and slow disks; safety is checked after"
echo "every step and each client history for linearizability."
build/tests/sim/dengine-sim --nodes 5 --seeds "${DENGINE_DEMO_SEEDS:-20}" "$@"
