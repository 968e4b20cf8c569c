#!/usr/bin/env bash
# Fails when a room in src/ includes a room it must not (docs/architecture.md §5): includes
# point one way, the library never includes the binary's code, and only api/ knows etcd's wire.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
failed=0

# forbid ROOM PATTERN WHY: no file under src/ROOM includes a header matching PATTERN.
forbid() {
  local room=$1 pattern=$2 why=$3 hits
  if hits=$(grep -rnE "^#include \"($pattern)" "$root/src/$room" 2>/dev/null); then
    echo "src/$room must not include $pattern ($why):" >&2
    echo "$hits" >&2
    failed=1
  fi
}

forbid raft 'log/|kv/|runtime/|net/|api/|cluster/|server/|recipes/|ctl/|tools/' "the pure core"
forbid log 'raft/|kv/|runtime/|net/|api/|cluster/|server/|recipes/|ctl/|tools/' "storage knows no Raft"
forbid kv_client 'raft/|log/|kv/|runtime/|net/|api/|cluster/|server/|recipes/|ctl/|tools/|client/' "KvClient knows no engine, no storage, no wire"
forbid kv 'raft/|runtime/|net/|api/|cluster/|server/|recipes/|ctl/|tools/' "nothing of replication"
forbid runtime 'net/|api/|cluster/|server/|ctl/|tools/' "the engine knows no wire"
forbid recipes 'net/|api/|cluster/|server/|ctl/|tools/|raft/|log/|kv/|runtime/|client/' "recipes use the public KvClient"
forbid net 'api/|cluster/|server/|ctl/' "the peer transport knows no etcd API"
forbid api 'cluster/|server/|ctl/' "the cluster room is above the etcd API (api/membership_admin.h)"
forbid cluster 'server/|ctl/' "the library never includes the binaries"
forbid tools 'raft/|runtime/|net/|api/|cluster/|server/|ctl/' "the snapshot file stands alone"
forbid ctl 'api/|net/|cluster/(client_api|cluster_join|member_roster|membership_follower|peer_address_book)\.h' "dengine-ctl is gRPC-free"
forbid client 'raft/|log/|kv/|runtime/|net/|cluster/|server/|recipes/|ctl/|tools/|api/[^e]|api/e[^t]' "the remote client links no engine (api/etcd_status.h only)"
forbid common 'raft/|log/|kv/|kv_client/|runtime/|net/|api/|cluster/|server/|recipes/|ctl/|tools/' "below every room"

if [[ $failed -ne 0 ]]; then exit 1; fi
echo "include rules hold in src/"
