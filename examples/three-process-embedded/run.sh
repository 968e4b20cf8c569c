#!/usr/bin/env bash
# examples/three-node-cluster/run.sh with embedded services instead of dengine-server: three processes of examples/embedded-node (a C++ service on dengine::cluster) form one cluster; the leader is killed with SIGKILL while etcdctl writes, writes resume, the killed process restarts on its data dir and catches up.
# embedded-node takes etcd's member flags and serves etcd's client API as dengine-server does,
# so the same script drives it. See README.md next to this script.
#
#   examples/three-process-embedded/run.sh
#
# Environment: DENGINE_EMBEDDED_NODE (the binary; default build/examples/embedded-node/
# embedded-node under the repository), and what examples/three-node-cluster/run.sh takes
# (DENGINE_EXAMPLE_BASE_PORT, KEEP=1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
node=${DENGINE_EMBEDDED_NODE:-$repo/build/examples/embedded-node/embedded-node}
if [[ ! -x "$node" ]]; then
  echo "error: no embedded-node at $node; build it first (cmake --build build --target embedded-node)," \
    "or point DENGINE_EMBEDDED_NODE at it" >&2
  exit 1
fi
DENGINE_SERVER=$node exec bash "$repo/examples/three-node-cluster/run.sh"
