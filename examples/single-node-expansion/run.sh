#!/usr/bin/env bash
# A running single dengine-server grown to three members the way an etcd operator does it, with
# Debian's etcdctl only: `member add --learner`, the new member started with the ETCD_* variables
# that command prints, `member promote` once the learner has caught up; all while a client keeps
# writing. Then every acknowledged write is read back from the newest member. See README.md next
# to this script.
#
#   examples/single-node-expansion/run.sh
#
# Environment: DENGINE_SERVER (the binary; default build/src/server/dengine-server under the
# repository, else dengine-server on PATH), DENGINE_EXAMPLE_BASE_PORT (use six consecutive ports
# from there instead of ports the kernel picks), KEEP=1 (keep the work directory and its logs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
preloaded_keys=100        # written before the expansion starts
promote_timeout_s=60      # how long a learner may take to catch up before promote succeeds

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
  echo "error: python3 not found on PATH (used to pick ports)" >&2
  exit 1
fi
export ETCDCTL_API=3

# --- work directory, processes and cleanup ------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-expansion.XXXXXX")
declare -A pids=()
writer_pid=

stop_writer() {
  [[ -n "$writer_pid" ]] || return 0
  touch "$work/writer.stop"
  for _ in $(seq 100); do  # a put in flight ends within its 5 s command timeout
    kill -0 "$writer_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$writer_pid" 2>/dev/null || true
  { wait "$writer_pid"; } 2>/dev/null || true
  writer_pid=
}

cleanup() {
  local status=$?
  local name pid
  trap - EXIT INT TERM
  stop_writer
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
for i in 0 1 2; do
  client_port[${names[$i]}]=${ports[$((2 * i))]}
  peer_port[${names[$i]}]=${ports[$((2 * i + 1))]}
done
endpoint() { echo "127.0.0.1:${client_port[$1]}"; }
peer_url() { echo "http://127.0.0.1:${peer_port[$1]}"; }

# start_member NAME [ENV=VALUE...]: the member's own listeners as flags; its cluster (for a
# joining member, the ETCD_* variables `member add` printed) from the environment given.
start_member() {
  local name=$1
  shift
  env "$@" "$server" \
    --data-dir "$work/$name" \
    --listen-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --advertise-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --listen-peer-urls "$(peer_url "$name")" \
    >>"$work/$name.log" 2>&1 &
  pids[$name]=$!
  echo "started $name (pid ${pids[$name]}): clients $(endpoint "$name"), peers $(peer_url "$name"), log $work/$name.log"
}

# Waits up to 30 s until the member answers `endpoint health`; fails early if it exits.
wait_healthy() {
  local name=$1 deadline
  deadline=$(($(now_ms) + 30000))
  while :; do
    kill -0 "${pids[$name]}" 2>/dev/null || die "$name (pid ${pids[$name]}) exited while starting"
    if etcdctl --endpoints="$(endpoint "$name")" --dial-timeout=1s --command-timeout=2s \
      endpoint health >"$work/health.out" 2>&1; then
      return 0
    fi
    (($(now_ms) < deadline)) || {
      tail -n 5 "$work/health.out" >&2
      die "$name not healthy after 30 s"
    }
    sleep 0.3
  done
}

# --- the writer ---------------------------------------------------------------------------------

# Puts w/<n> = v<n> through the first member, one etcdctl call at a time, until writer.stop
# appears: each acknowledged key goes to writer.acked, each failure to writer.failed.
start_writer() {
  : >"$work/writer.acked"
  : >"$work/writer.failed"
  (
    n=0
    while [[ ! -e "$work/writer.stop" ]]; do
      n=$((n + 1))
      if out=$(etcdctl --endpoints="$(endpoint n1)" --dial-timeout=2s --command-timeout=5s \
        put "w/$n" "v$n" 2>&1); then
        echo "w/$n" >>"$work/writer.acked"
      else
        echo "w/$n: $out" >>"$work/writer.failed"
      fi
    done
  ) &
  writer_pid=$!
}
count_lines() { if [[ -f "$1" ]]; then wc -l <"$1" | tr -d " "; else echo 0; fi; }
# wait_writes N: until the writer has N more acknowledged puts, so that it overlaps each phase.
wait_writes() {
  local want=$(($(count_lines "$work/writer.acked") + $1)) deadline=$(($(now_ms) + 30000))
  while (($(count_lines "$work/writer.acked") < want)); do
    (($(now_ms) < deadline)) || die "the writer got fewer than $1 puts acknowledged in 30 s"
    sleep 0.1
  done
}

# --- the example --------------------------------------------------------------------------------

echo "dengine-server: $server"
echo "etcdctl:        $(etcdctl version | head -n 1)"
echo "work directory: $work"
started_ms=$(now_ms)

step "starting n1 alone"
start_member n1 ETCD_NAME=n1 ETCD_INITIAL_ADVERTISE_PEER_URLS="$(peer_url n1)" \
  ETCD_INITIAL_CLUSTER="n1=$(peer_url n1)" ETCD_INITIAL_CLUSTER_TOKEN=expansion-example
wait_healthy n1
for ((i = 1; i <= preloaded_keys; i++)); do
  etcdctl --endpoints="$(endpoint n1)" put "pre/$i" "v$i" >/dev/null || die "put pre/$i failed"
done
echo "wrote $preloaded_keys keys pre/1..pre/$preloaded_keys through n1"
run etcdctl --endpoints="$(endpoint n1)" member list -w table

step "a client writes w/1, w/2, ... through n1 from now until the end of the expansion"
start_writer
wait_writes 10

for name in n2 n3; do
  step "adding $name as a learner"
  printf '$ etcdctl member add %s --learner --peer-urls=%s\n' "$name" "$(peer_url "$name")"
  # etcd refuses a change while a voter has been connected for less than 5 s ("unhealthy
  # cluster"), as right after a promotion; an operator retries.
  t0=$(now_ms)
  until added=$(etcdctl --endpoints="$(endpoint n1)" member add "$name" --learner \
    --peer-urls="$(peer_url "$name")" 2>&1); do
    [[ "$added" == *"unhealthy cluster"* ]] || die "member add $name failed: $added"
    (($(now_ms) - t0 < 30000)) || die "member add $name: still refused after 30 s: $added"
    sleep 0.5
  done
  echo "$added"
  id=$(sed -n 's/^Member *\([0-9a-f]*\) added to cluster.*/\1/p' <<<"$added")  # %16x: space-padded
  [[ -n "$id" ]] || die "no member id in the output of member add"
  # The ETCD_*="..." lines, as the new member's environment.
  mapfile -t variables < <(sed -n 's/^\(ETCD_[A-Z_]*\)="\(.*\)"$/\1=\2/p' <<<"$added")
  printf '%s\n' "${variables[@]}" | grep -qx 'ETCD_INITIAL_CLUSTER_STATE=existing' ||
    die "member add printed no ETCD_INITIAL_CLUSTER_STATE=\"existing\""

  step "starting $name with those variables (it joins as a learner and catches up)"
  start_member "$name" "${variables[@]}"

  step "promoting $name once it is in sync with the leader"
  t0=$(now_ms)
  attempts=0
  while :; do
    attempts=$((attempts + 1))
    if out=$(etcdctl --endpoints="$(endpoint n1)" member promote "$id" 2>&1); then
      echo "$out"
      break
    fi
    [[ "$out" == *"in sync with leader"* ]] || die "member promote $id failed: $out"
    kill -0 "${pids[$name]}" 2>/dev/null || die "$name (pid ${pids[$name]}) exited while catching up"
    (($(now_ms) - t0 < promote_timeout_s * 1000)) ||
      die "$name did not catch up within $promote_timeout_s s: $out"
    sleep 0.2
  done
  echo "promoted after $(($(now_ms) - t0)) ms ($attempts attempt(s))"
  wait_healthy "$name"
  echo "$name is a healthy voter; the writer has $(count_lines "$work/writer.acked") acknowledged puts so far"
  wait_writes 10
done

step "stopping the writer"
stop_writer
acked=$(count_lines "$work/writer.acked")
failed=$(count_lines "$work/writer.failed")
echo "acknowledged puts: $acked; failed puts: $failed"
if ((failed > 0)); then
  head -n 5 "$work/writer.failed" >&2
  die "$failed put(s) failed while the cluster grew; there must be none"
fi
((acked > 0)) || die "the writer got no put acknowledged"

step "the grown cluster"
run etcdctl --endpoints="$(endpoint n1),$(endpoint n2),$(endpoint n3)" member list -w table
members=$(etcdctl --endpoints="$(endpoint n3)" member list)
for name in "${names[@]}"; do
  grep -q ", started, $name, $(peer_url "$name"), http://$(endpoint "$name"), false$" <<<"$members" ||
    die "member list through n3 does not show $name as a started voter:"$'\n'"$members"
done
run etcdctl --endpoints="$(endpoint n1),$(endpoint n2),$(endpoint n3)" endpoint status -w table

step "every acknowledged key, read back from the newest member n3"
# A linearizable read through n3 first, so that its serializable (local) reads below see every
# write acknowledged before it; then the keys from n3's own state, compared one by one.
etcdctl --endpoints="$(endpoint n3)" get "w/1" --consistency=l >/dev/null || die "linearizable get through n3 failed"
for prefix in pre w; do
  etcdctl --endpoints="$(endpoint n3)" --command-timeout=20s get "$prefix/" --prefix \
    --consistency=s >"$work/n3.$prefix" || die "get --prefix $prefix/ from n3 failed"
done
# etcdctl prints key and value on alternate lines; each must be <prefix>/<n> then v<n>.
check_keys() {  # FILE EXPECTED_KEYS_FILE
  python3 - "$1" "$2" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
got = dict(zip(lines[0::2], lines[1::2]))
want = [k for k in open(sys.argv[2]).read().split()]
missing = [k for k in want if k not in got]
wrong = [k for k in want if k in got and got[k] != "v" + k.split("/", 1)[1]]
if missing or wrong:
    sys.exit(f"{len(missing)} missing (first: {missing[:5]}), {len(wrong)} with wrong values (first: {wrong[:5]})")
print(f"{len(want)} keys present with their values")
EOF
}
for ((i = 1; i <= preloaded_keys; i++)); do echo "pre/$i"; done >"$work/pre.want"
verdict=$(check_keys "$work/n3.pre" "$work/pre.want" 2>&1) || die "n3 lacks preloaded keys: $verdict"
echo "pre/: $verdict"
verdict=$(check_keys "$work/n3.w" "$work/writer.acked" 2>&1) || die "n3 lacks acknowledged writes: $verdict"
echo "w/:   $verdict"

step "done in $(($(now_ms) - started_ms)) ms: one member grew to three while $acked writes went through with 0 failures"
