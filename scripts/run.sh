#!/usr/bin/env bash
# The README's run command: installs what is missing, builds dengine-server in the release tree
# and starts a single member with etcd's defaults: clients on 127.0.0.1:2379, peers on
# 127.0.0.1:2380, data in ./default.dengine under the repository ($DENGINE_DATA_DIR when set).
# Extra arguments go to dengine-server (etcd's flags). Ctrl-C stops it gracefully.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export CCACHE_BASEDIR="$repo"
export CCACHE_NOHASHDIR=1

bash scripts/install-deps.sh >/dev/null
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake --preset release >/dev/null
fi
# Always asked for (a no-op when up to date), so the server runs the current sources.
cmake --build --preset release -j "${DENGINE_JOBS:-2}" --target dengine-server

data_dir=${DENGINE_DATA_DIR:-$repo/default.dengine}
echo "dengine-server: data in $data_dir; try 'etcdctl put greeting hello' in another terminal"
exec build/src/server/dengine-server --data-dir "$data_dir" "$@"
