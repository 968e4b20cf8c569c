#!/usr/bin/env bash
# The Node.js check's ideas with Debian's etcdctl 3.4 against a dengine-server cluster: put/get
# across members, a prefix watch, a lease kept alive past its TTL, a contended lock and an
# election. Exits 1, saying what differed, on any mismatch.
#
#   examples/clients/shell/check.sh 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
#   ETCDCTL_ENDPOINTS=127.0.0.1:2379,... examples/clients/shell/check.sh
#
# Each step talks to the members in turn (the i-th endpoint, modulo their number), so a key
# written through one member is read, watched or contended through another.
set -euo pipefail
export ETCDCTL_API=3

IFS=, read -r -a endpoints <<<"${1:-${ETCDCTL_ENDPOINTS:-}}"
if ((${#endpoints[@]} == 0)); then
  echo "usage: $0 HOST:PORT[,HOST:PORT...]  (or set ETCDCTL_ENDPOINTS)" >&2
  exit 2
fi
unset ETCDCTL_ENDPOINTS  # each call names its member
ttl=3
prefix="shell-check/$(date +%s)-$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-shell-check.XXXXXX")
background=()

cleanup() {
  local status=$? pid
  for pid in "${background[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${background[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ctl I ARGS...: etcdctl through member I.
ctl() {
  local i=$1
  shift
  etcdctl --endpoints="${endpoints[$((i % ${#endpoints[@]}))]}" --dial-timeout=2s \
    --command-timeout=5s "$@"
}
# spawn NAME I ARGS...: etcdctl through member I in the background, its output in NAME.out and
# NAME.err; $! is etcdctl itself (no subshell between), so signals reach it.
spawn() {
  local name=$1 i=$2
  shift 2
  etcdctl --endpoints="${endpoints[$((i % ${#endpoints[@]}))]}" --dial-timeout=2s \
    --command-timeout=5s "$@" >"$work/$name.out" 2>"$work/$name.err" &
  background+=($!)
}
fail() {  # says what differed, then what the background etcdctl commands printed
  local file
  echo "  FAIL  $current: $*"
  for file in "$work"/*.out "$work"/*.err; do
    [[ -s "$file" ]] || continue
    echo "        --- $(basename "$file"):"
    sed 's/^/        /' "$file" | tail -n 20
  done
  exit 1
}
expect_eq() {  # got want what
  [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + seconds))
  until "$@"; do
    (($(date +%s) < deadline)) || fail "$what (waited ${seconds} s)"
    sleep 0.1
  done
}
passed=0
ok() {
  passed=$((passed + 1))
  printf '  ok    %-17s %s\n' "$current" "$*"
}
forget() {  # PID: a background etcdctl that has exited
  local i
  for i in "${!background[@]}"; do
    if [[ "${background[$i]}" == "$1" ]]; then unset "background[$i]"; fi
  done
}
stop_background() {  # PID SIGNAL: stops one background etcdctl
  kill "-$2" "$1" 2>/dev/null || true
  { wait "$1"; } 2>/dev/null || true
  forget "$1"
}

echo "etcdctl $(etcdctl version | head -n 1 | cut -d' ' -f3), endpoints ${endpoints[*]}, keys under $prefix/"

# --- put/get: written through one member, read through the others, deleted ----------------------
current=put/get
ctl 0 put "$prefix/greeting" hello >/dev/null
expect_eq "$(ctl 1 get "$prefix/greeting" --print-value-only)" hello "get through member 2"
expect_eq "$(ctl 2 get "$prefix/greeting" --print-value-only --consistency=s)" hello \
  "serializable get through member 3"
expect_eq "$(ctl 1 del "$prefix/greeting")" 1 "keys deleted"
expect_eq "$(ctl 0 get "$prefix/greeting")" "" "get after the delete"
ok "put through member 1, read through 2 and 3, deleted"

# --- watch: a prefix watch sees exactly the changes made after it started -----------------------
current=watch
ctl 2 put "$prefix/watch/before" "not seen" >/dev/null
spawn watch 1 watch --prefix "$prefix/watch/"
watch_pid=$!
# Only once a put made after the watch started shows up is the watch known to be in place.
ready=0
watch_started() {
  ready=$((ready + 1))
  ctl 0 put "$prefix/watch/ready" "$ready" >/dev/null
  sleep 0.2
  grep -qxF "$prefix/watch/ready" "$work/watch.out"
}
wait_for 10 "the watch never reported a put" watch_started
ctl 2 put "$prefix/watch/a" 1 >/dev/null
ctl 0 put "$prefix/outside" "not seen" >/dev/null
ctl 2 put "$prefix/watch/b" 2 >/dev/null
ctl 2 del "$prefix/watch/b" >/dev/null
deleted() { grep -qx DELETE "$work/watch.out"; }
wait_for 10 "the watch did not report the delete" deleted
sleep 0.3  # anything extra would arrive now
stop_background "$watch_pid" TERM
# What it printed from the event of $prefix/watch/a on (the PUT line before that key, then all).
got=$(awk -v first="$prefix/watch/a" '!found && $0 == first { found = 1; print prev } found; { prev = $0 }' \
  "$work/watch.out")
want=$(printf 'PUT\n%s\n1\nPUT\n%s\n2\nDELETE\n%s\n' \
  "$prefix/watch/a" "$prefix/watch/b" "$prefix/watch/b")
expect_eq "$got" "$want" "watch output once it was in place"
grep -qF -e before -e outside "$work/watch.out" && fail "the watch reported a key it should not have"
ok "PUT a, PUT b, DELETE b reported in order; nothing before it or outside the prefix"

# --- lease: keep-alive holds a key past the TTL; an idle lease expires; revoke removes ----------
current="lease keep-alive"
kept=$(ctl 0 lease grant "$ttl" | awk '{print $2}')
idle=$(ctl 1 lease grant "$ttl" | awk '{print $2}')
[[ -n "$kept" && -n "$idle" ]] || fail "lease grant printed no id"
ctl 0 put "$prefix/lease/kept" alive --lease="$kept" >/dev/null
ctl 1 put "$prefix/lease/idle" idle --lease="$idle" >/dev/null
spawn keepalive 2 lease keep-alive "$kept"
keepalive_pid=$!
held=$((2 * ttl + 1))
sleep "$held"
kill -0 "$keepalive_pid" 2>/dev/null || fail "etcdctl lease keep-alive exited early"
stop_background "$keepalive_pid" TERM
renewals=$(grep -c "keepalived with TTL($ttl)" "$work/keepalive.out" || true)
((renewals >= 2)) || fail "only $renewals keep-alive(s) answered in $held s"
expect_eq "$(ctl 1 get "$prefix/lease/kept" --print-value-only)" alive \
  "key on the kept lease after $held s"
idle_gone() { [[ -z "$(ctl 2 get "$prefix/lease/idle")" ]]; }
wait_for 5 "the key on the idle $ttl s lease is still there after $held s" idle_gone
ctl 2 lease revoke "$kept" >/dev/null
expect_eq "$(ctl 0 get "$prefix/lease/kept")" "" "key on the kept lease after revoke"
ok "$renewals keep-alives held a $ttl s lease $held s; the idle one expired; revoke removed the key"

# --- lock: the second holder enters only after the first leaves -------------------------------
current=lock
log=$work/lock.log
spawn lock-a 0 lock "$prefix/lock" -- sh -c "echo A-enter >>'$log'; sleep 3; echo A-exit >>'$log'"
lock_a=$!
a_holds() { grep -q A-enter "$log" 2>/dev/null; }
wait_for 10 "A never acquired the lock" a_holds
spawn lock-b 1 lock "$prefix/lock" -- sh -c "echo B-enter >>'$log'; echo B-exit >>'$log'"
lock_b=$!
# keys_under PREFIX N: N keys under PREFIX (etcdctl's lock and election put one per contender).
keys_under() { (($(ctl 2 get --prefix "$1" --keys-only | grep -c .) == $2)); }
wait_for 5 "B never queued behind A (no second key under $prefix/lock/)" keys_under "$prefix/lock/" 2
grep -q A-exit "$log" && fail "A left before B queued: the lock was not contended"
wait "$lock_a" || fail "A's etcdctl lock failed"
wait "$lock_b" || fail "B's etcdctl lock failed"
forget "$lock_a"
forget "$lock_b"
expect_eq "$(paste -sd' ' "$log")" "A-enter A-exit B-enter B-exit" "order of the critical sections"
ok "B queued while A held the lock and entered only after A left"

# --- elect: the first candidate leads, the second takes over when it resigns -------------------
current=election
spawn observe 2 elect -l "$prefix/election"
observer=$!
spawn alpha 0 elect "$prefix/election" alpha
alpha=$!
elected() { grep -qxF "$1" "$2"; }
wait_for 10 "alpha was never elected" elected alpha "$work/alpha.out"
spawn beta 1 elect "$prefix/election" beta
beta=$!
wait_for 5 "beta never campaigned (no second key under $prefix/election/)" \
  keys_under "$prefix/election/" 2
sleep 0.5
elected beta "$work/beta.out" && fail "beta was elected while alpha led"
wait_for 10 "the observer never saw alpha" elected alpha "$work/observe.out"
stop_background "$alpha" INT  # etcdctl elect resigns on SIGINT
wait_for 10 "beta was not elected after alpha resigned" elected beta "$work/beta.out"
wait_for 10 "the observer never saw beta" elected beta "$work/observe.out"
stop_background "$beta" INT
stop_background "$observer" TERM
leaders=$(grep -vx "$prefix/election/[0-9a-f]*" "$work/observe.out" | paste -sd' ')
expect_eq "$leaders" "alpha beta" "leaders the observer printed"
nobody() { [[ -z "$(ctl 0 get --prefix "$prefix/election/")" ]]; }
wait_for 10 "campaign keys remain after both resigned" nobody
ok "alpha led, beta waited, then led when alpha resigned; observed: $leaders"

echo "shell etcdctl check: $passed passed, 0 failed"
