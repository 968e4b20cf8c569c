#!/usr/bin/env bash
# Ordinary etcd clients against a three-member dengine-server cluster on 127.0.0.1: the npm
# `etcd3` package (node/check.js) and Debian's etcdctl (shell/check.sh), each doing put/get, a
# prefix watch, a lease kept alive past its TTL, a contended lock and an election, and failing
# on any answer etcd would not give. See README.md next to this script.
#
#   examples/clients/run.sh
#
# Environment: DENGINE_SERVER (the binary; default build/src/server/dengine-server under the
# repository, else dengine-server on PATH), DENGINE_EXAMPLE_BASE_PORT (use six consecutive ports
# from there instead of ports the kernel picks), KEEP=1 (keep the work directory and its logs).
# Needs node and npm (Debian's nodejs and npm), etcdctl (etcd-client) and python3; `npm ci`
# fetches etcd3 from the npm registry unless npm's cache already holds it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# --- prerequisites -----------------------------------------------------------------------------

if [[ -n "${DENGINE_SERVER:-}" ]]; then
  server=$DENGINE_SERVER
  if [[ ! -x "$server" ]]; then
    echo "error: DENGINE_SERVER=$server is not an executable file" >&2
    exit 1
  fi
elif [[ -x "$repo/build/src/server/dengine-server" ]]; then
  server=$repo/build/src/server/dengine-server
elif command -v dengine-server >/dev/null 2>&1; then
  server=$(command -v dengine-server)
else
  echo "error: no dengine-server: not in \$DENGINE_SERVER, not built at" \
    "$repo/build/src/server/dengine-server, not on PATH." >&2
  echo "       Build it first (./scripts/run.sh or ./scripts/test.sh from the repository root)." >&2
  exit 1
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool not found on PATH; install Debian's nodejs and npm:" \
      "apt-get install nodejs npm (scripts/install-deps.sh does)" >&2
    exit 1
  fi
done
if ! command -v etcdctl >/dev/null 2>&1; then
  echo "error: etcdctl not found on PATH; install Debian's etcd client: apt-get install etcd-client" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 not found on PATH (used to pick ports)" >&2
  exit 1
fi
export ETCDCTL_API=3

# --- work directory, processes and cleanup ------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-clients.XXXXXX")
declare -A pids=()

cleanup() {
  local status=$?
  local name pid
  trap - EXIT INT TERM
  for name in "${!pids[@]}"; do
    kill -TERM "${pids[$name]}" 2>/dev/null || true
  done
  for _ in $(seq 50); do  # up to 5 s for a graceful stop
    local alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    { wait "$pid"; } 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "KEEP=1: data and logs kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  echo >&2
  echo "error: $*" >&2
  local log
  for log in "$work"/n*.log; do
    [[ -f "$log" ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
  if [[ "${KEEP:-0}" != 1 ]]; then
    echo "(run with KEEP=1 to keep the work directory and its logs)" >&2
  fi
  exit 1
}

step() { printf '\n==> %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo "dengine-server: $server"
echo "etcdctl:        $(etcdctl version | head -n 1)"
echo "node:           $(node --version), npm $(npm --version)"
echo "work directory: $work"

# --- the Node.js program's dependencies, before any server starts -------------------------------

# A copy, so the repository's tree gets no node_modules and concurrent runs do not share one.
# npm ci installs exactly package-lock.json's versions; bounded retries and an overall timeout
# make an unreachable registry a failure within minutes, not a hang.
step "npm ci (etcd3 as pinned in examples/clients/node/package-lock.json)"
mkdir "$work/node"
cp "$here/node/package.json" "$here/node/package-lock.json" "$here/node/check.js" "$work/node/"
t0=$(now_ms)
if ! (cd "$work/node" && timeout 180 npm ci --no-audit --no-fund --fetch-retries=2 \
  --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 --fetch-timeout=60000 \
  >"$work/install.log" 2>&1); then
  tail -n 20 "$work/install.log" >&2
  die "npm ci failed (log above): the etcd3 package and its dependencies could not be installed." \
    "This example needs the npm registry (npm config get registry: $(npm config get registry))" \
    "or npm's cache to hold the versions in package-lock.json."
fi
echo "installed etcd3 $(node -p 'require(process.argv[1]).version' "$work/node/node_modules/etcd3/package.json") in $(($(now_ms) - t0)) ms"

# --- the cluster --------------------------------------------------------------------------------

# Six ports free on 127.0.0.1: the kernel's choice (all bound at once, so they differ), or six
# consecutive ones from DENGINE_EXAMPLE_BASE_PORT, each checked by binding it.
mapfile -t ports < <(python3 - "${DENGINE_EXAMPLE_BASE_PORT:-}" <<'EOF'
import socket, sys
base = sys.argv[1]
socks = []
try:
    for i in range(6):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        port = int(base) + i if base else 0
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            sys.exit(f"port {port} on 127.0.0.1 is not free: {e.strerror}")
        socks.append(s)
    for s in socks:
        print(s.getsockname()[1])
finally:
    for s in socks:
        s.close()
EOF
) || true
((${#ports[@]} == 6)) || die "could not find six free ports on 127.0.0.1"

names=(n1 n2 n3)
declare -A client_port=() peer_port=()
initial_cluster=
for i in 0 1 2; do
  name=${names[$i]}
  client_port[$name]=${ports[$((2 * i))]}
  peer_port[$name]=${ports[$((2 * i + 1))]}
  initial_cluster+="${initial_cluster:+,}$name=http://127.0.0.1:${peer_port[$name]}"
done
endpoint() { echo "127.0.0.1:${client_port[$1]}"; }
all_endpoints="$(endpoint n1),$(endpoint n2),$(endpoint n3)"

start_member() {
  local name=$1
  "$server" \
    --name "$name" \
    --data-dir "$work/$name" \
    --listen-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --advertise-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_port[$name]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${peer_port[$name]}" \
    --initial-cluster "$initial_cluster" \
    --initial-cluster-token clients-example \
    >>"$work/$name.log" 2>&1 &
  pids[$name]=$!
  echo "started $name (pid ${pids[$name]}): clients $(endpoint "$name"), peers 127.0.0.1:${peer_port[$name]}, log $work/$name.log"
}

# Waits up to 30 s until every member answers `endpoint health`; fails early if one exits.
wait_healthy() {
  local deadline name
  deadline=$(($(now_ms) + 30000))
  while :; do
    for name in "${names[@]}"; do
      kill -0 "${pids[$name]}" 2>/dev/null || die "$name (pid ${pids[$name]}) exited while starting"
    done
    if etcdctl --endpoints="$all_endpoints" --dial-timeout=1s --command-timeout=2s \
      endpoint health >"$work/health.out" 2>&1; then
      return 0
    fi
    (($(now_ms) < deadline)) || {
      tail -n 5 "$work/health.out" >&2
      die "members ${names[*]} not all healthy after 30 s"
    }
    sleep 0.3
  done
}

step "starting three members"
for name in "${names[@]}"; do start_member "$name"; done
t0=$(now_ms)
wait_healthy
echo "healthy after $(($(now_ms) - t0)) ms: $all_endpoints"

# --- the clients --------------------------------------------------------------------------------

failed=()

step "Node.js: etcd3 (node/check.js)"
t0=$(now_ms)
if (cd "$work/node" && timeout 240 node check.js "$all_endpoints"); then
  echo "node check passed in $(($(now_ms) - t0)) ms"
else
  failed+=("node/check.js")
fi

step "shell: etcdctl (shell/check.sh)"
t0=$(now_ms)
if timeout 120 bash "$here/shell/check.sh" "$all_endpoints"; then
  echo "shell check passed in $(($(now_ms) - t0)) ms"
else
  failed+=("shell/check.sh")
fi

for name in "${names[@]}"; do
  kill -0 "${pids[$name]}" 2>/dev/null || die "$name (pid ${pids[$name]}) exited during the checks"
done
if ((${#failed[@]})); then
  die "failed: ${failed[*]} (their output above says what differed)"
fi
step "done: the etcd3 and etcdctl checks passed against three members of $(basename "$server")"
