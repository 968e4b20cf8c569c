#!/usr/bin/env bash
# examples/single-node-expansion/run.sh with embedded services instead of dengine-server: one examples/embedded-node process grown to three with etcdctl member add --learner and member promote while a client writes; no write may fail, and every one is read back from the newest member.
# embedded-node takes etcd's member flags and serves etcd's client API as dengine-server does,
# so the same script drives it. See README.md next to this script.
#
#   examples/single-node-expansion-embedded/run.sh
#
# Environment: DENGINE_EMBEDDED_NODE (the binary; default build/examples/embedded-node/
# embedded-node under the repository), and what examples/single-node-expansion/run.sh takes
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
DENGINE_SERVER=$node exec bash "$repo/examples/single-node-expansion/run.sh"
