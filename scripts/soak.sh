#!/usr/bin/env bash
# Long simulator soak, outside the default test run: many seeds per cluster size.
#   scripts/soak.sh [SEEDS_PER_SIZE] [FIRST_SEED]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
seeds=${1:-20000}
first=${2:-100000000}

bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "${DENGINE_JOBS:-2}" --target dengine-sim

status=0
for nodes in 3 5 7; do
  # Two shards per size, one per core.
  half=$((seeds / 2))
  build/tests/sim/dengine-sim --nodes "$nodes" --seeds "$half" --first-seed "$first" &
  build/tests/sim/dengine-sim --nodes "$nodes" --seeds "$((seeds - half))" \
    --first-seed "$((first + half))" &
  wait -n || status=1
  wait -n || status=1
done
exit "$status"
