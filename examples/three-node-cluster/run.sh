#!/usr/bin/env bash
# Three dengine-server processes on 127.0.0.1 form one cluster, driven by Debian's etcdctl:
# writes through different members, the leader killed with SIGKILL (and how long writes were
# unavailable), every acknowledged key still there, and the killed member restarted on its data
# directory catching up. See README.md next to this script.
#
#   examples/three-node-cluster/run.sh
#
# Environment: DENGINE_SERVER (the binary; default build/src/server/dengine-server under the
# repository, else dengine-server on PATH), DENGINE_EXAMPLE_BASE_PORT (use six consecutive ports
# from there instead of ports the kernel picks), KEEP=1 (keep the work directory and its logs).
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
if ! command -v etcdctl >/dev/null 2>&1; then
  echo "error: etcdctl not found on PATH; install Debian's etcd client: apt-get install etcd-client" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 not found on PATH (used to pick ports and read etcdctl's JSON)" >&2
  exit 1
fi
export ETCDCTL_API=3

# --- work directory, processes and cleanup ------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-three-node.XXXXXX")
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
run() { printf '$ %s\n' "$*"; "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- ports --------------------------------------------------------------------------------------

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
    --initial-cluster-token example-cluster \
    >>"$work/$name.log" 2>&1 &
  pids[$name]=$!
  echo "started $name (pid ${pids[$name]}): clients $(endpoint "$name"), peers 127.0.0.1:${peer_port[$name]}, log $work/$name.log"
}

# Waits up to 30 s until every given member answers `endpoint health`; fails early if one exits.
wait_healthy() {
  local members=("$@") endpoints name deadline
  endpoints=$(for name in "${members[@]}"; do endpoint "$name"; done | paste -sd,)
  deadline=$(($(now_ms) + 30000))
  while :; do
    for name in "${members[@]}"; do
      kill -0 "${pids[$name]}" 2>/dev/null || die "$name (pid ${pids[$name]}) exited while starting"
    done
    if etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=2s \
      endpoint health >"$work/health.out" 2>&1; then
      # etcdctl 3.4 prints the verdicts on stderr, among its client's retry warnings.
      grep -v '^{"level":' "$work/health.out" || true
      return 0
    fi
    (($(now_ms) < deadline)) || {
      tail -n 5 "$work/health.out" >&2
      die "members ${members[*]} not all healthy after 30 s"
    }
    sleep 0.3
  done
}

# Reads key from the given endpoint(s) and checks its value.
expect_get() {
  local endpoints=$1 key=$2 want=$3 got
  shift 3
  got=$(etcdctl --endpoints="$endpoints" --command-timeout=5s get "$key" --print-value-only "$@") ||
    die "get $key from $endpoints failed"
  printf '  %-16s = %-12s (from %s%s)\n' "$key" "$got" "$endpoints" "${*:+, $*}"
  [[ "$got" == "$want" ]] || die "$key read '$got' from $endpoints, want '$want'"
}

# --- the example --------------------------------------------------------------------------------

echo "dengine-server: $server"
echo "etcdctl:        $(etcdctl version | head -n 1)"
echo "work directory: $work"

step "starting three members"
for name in "${names[@]}"; do start_member "$name"; done

step "waiting for all three to be healthy"
t0=$(now_ms)
wait_healthy n1 n2 n3
echo "healthy after $(($(now_ms) - t0)) ms"

step "status of the cluster"
run etcdctl --endpoints="$all_endpoints" endpoint status -w table

step "writes through different members"
declare -A written=([greeting]=hello [colour]=blue [answer]=42)
run etcdctl --endpoints="$(endpoint n2)" put greeting hello
run etcdctl --endpoints="$(endpoint n3)" put colour blue
run etcdctl --endpoints="$(endpoint n1)" put answer 42

step "reading them back from other members"
expect_get "$(endpoint n1)" greeting hello
expect_get "$(endpoint n2)" colour blue
expect_get "$(endpoint n3)" answer 42

step "finding the leader"
leader=$(etcdctl --endpoints="$all_endpoints" endpoint status -w json | python3 -c '
import json, sys
statuses = json.load(sys.stdin)
leaders = {s["Status"]["leader"] for s in statuses}
if len(leaders) != 1:
    sys.exit(f"members disagree on the leader: {sorted(leaders)}")
leader = leaders.pop()
for s in statuses:
    if s["Status"]["header"]["member_id"] == leader:
        print(s["Endpoint"])
        break
else:
    sys.exit(f"leader {leader:x} is none of the endpoints")
') || die "could not find the leader from endpoint status"
leader_name=
for name in "${names[@]}"; do
  [[ "$(endpoint "$name")" == "$leader" ]] && leader_name=$name
done
[[ -n "$leader_name" ]] || die "leader endpoint $leader is none of ours"
survivors=()
for name in "${names[@]}"; do
  [[ "$name" == "$leader_name" ]] || survivors+=("$name")
done
survivor_endpoints="$(endpoint "${survivors[0]}"),$(endpoint "${survivors[1]}")"
echo "leader: $leader_name ($leader, pid ${pids[$leader_name]})"

step "killing the leader $leader_name with SIGKILL, then writing through the survivors until a write succeeds"
exec 3>&2 2>/dev/null  # stderr off while bash reaps it: no "Killed" job notice
kill -KILL "${pids[$leader_name]}"
killed_at=$(date +%s%N)
wait "${pids[$leader_name]}" || true
exec 2>&3 3>&-
unset "pids[$leader_name]"
attempts=0
while :; do
  attempts=$((attempts + 1))
  if etcdctl --endpoints="$survivor_endpoints" --dial-timeout=1s --command-timeout=1s \
    put after-failover "$attempts" >"$work/put.out" 2>&1; then
    break
  fi
  (($(date +%s%N) - killed_at < 30000000000)) || {
    tail -n 5 "$work/put.out" >&2
    die "no write succeeded through $survivor_endpoints within 30 s of killing the leader"
  }
  sleep 0.05
done
unavailable_ms=$((($(date +%s%N) - killed_at) / 1000000))
written[after-failover]=$attempts
echo "put after-failover $attempts: $(cat "$work/put.out")"
echo "writes were unavailable for ${unavailable_ms} ms ($attempts attempt(s), 1 s command timeout)"

step "status of the two survivors"
run etcdctl --endpoints="$survivor_endpoints" endpoint status -w table

step "every key, read back from the survivors"
for key in greeting colour answer after-failover; do
  expect_get "$survivor_endpoints" "$key" "${written[$key]}"
done

step "restarting $leader_name on its data directory"
start_member "$leader_name"
wait_healthy "$leader_name"

step "linearizable read of the post-failover key from $leader_name"
for key in after-failover greeting; do
  expect_get "$(endpoint "$leader_name")" "$key" "${written[$key]}" --consistency=l
done
run etcdctl --endpoints="$all_endpoints" endpoint status -w table

step "done: the cluster survived its leader's SIGKILL (writes unavailable for ${unavailable_ms} ms)"
