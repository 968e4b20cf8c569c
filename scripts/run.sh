#!/usr/bin/env bash
# The README's run command. Until dengine-server exists, it demonstrates the embedded engine: it
# builds libdengine and the embedded quick start (examples/quick-start-embedded, the README's
# "Quick start (C++)") in the release tree and runs it on a data directory that persists between
# runs: $DENGINE_DATA_DIR, or ./dengine-data under the repository.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export CCACHE_BASEDIR="$repo"
export CCACHE_NOHASHDIR=1

bash scripts/install-deps.sh >/dev/null
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake --preset release >/dev/null
fi
# Always asked for (a no-op when up to date), so the example runs the current sources.
cmake --build --preset release -j "${DENGINE_JOBS:-2}" --target quick-start-embedded

data_dir=${DENGINE_DATA_DIR:-$repo/dengine-data}
echo "quick-start-embedded: a single-node EmbeddedEngine on $data_dir (run again to see it"
echo "recover: the put gets a higher revision and 'leader' is already taken)."
build/examples/quick-start-embedded/quick-start-embedded "$data_dir"
