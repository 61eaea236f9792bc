#!/usr/bin/env bash
# Scale-out behind the kernel's own load balancer, the way kube-proxy runs
# a Kubernetes UDP Service: in a network namespace of its own (nothing on
# the host changes), three `pssst serve` processes sharing one key on
# 127.0.0.2-4:7777 behind tests/scale-out/dnat.nft (nftables DNAT, a new
# backend drawn at random per flow, conntrack pins the flow to it), and
# CLIENTS `pssst bench` clients on the service address 127.0.0.10:7777 for
# BENCH_SECONDS, three times:
#   1. no fault: the latency to compare with;
#   2. SIGKILL of the busiest backend FAULT_AT seconds in (its port answers
#      ICMP "port unreachable"; its flows stay pinned to it in conntrack);
#   3. SIGSTOP of the busiest backend (datagrams to it vanish: a hung host).
# Each must end with 0 failed transactions: the clients pinned to the
# failed backend retransmit from new source ports, new flows, which the
# balancer draws anew. The p50/p99/p99.9/max latencies of the three runs
# are printed side by side (docs/scaling-out.md quotes them).
#
# The clients retry on common.sh's LB_FAULT_RETRY_ARGS (10 retries from a
# 250 ms first wait; DNAT_RETRIES=N gives N retries on the default waits):
# with one of three backends dead and still in the rotation, each fresh
# flow has a 1/3 chance of drawing it again, so a request caught in flight
# fails with probability (1/3)^10 (at the default 6 retries, 1/729: with
# about 5 clients pinned to the victim, about one run in 150).
#
# Needs root (network namespace) and nftables (installed from Debian if
# missing, see tests/netns.sh). Every process it starts and the namespace
# are gone on exit, failure included.
#
# Env: PSSST (default $CARGO_TARGET_DIR/release/pssst), PSSST_CACHE (the
# work dir goes under it), DNAT_BENCH_SECONDS (default 20), DNAT_RETRIES
# (default: the client's own), SCALE_OUT_KEEP=1 keeps the work dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEST_NAME=scale-out-dnat
source "$HERE/common.sh"
BENCH_SECONDS="${DNAT_BENCH_SECONDS:-20}"
RETRY_ARGS=("${LB_FAULT_RETRY_ARGS[@]}")
[ -z "${DNAT_RETRIES:-}" ] || RETRY_ARGS=(--retries "$DNAT_RETRIES")
CLIENTS=12
FAULT_AT=5                    # seconds into the bench
SERVICE=127.0.0.10:7777       # as in dnat.nft
STATS_INTERVAL_MS=100
source "$REPO_ROOT/tests/netns.sh"

ensure_nftables || die "no nftables"

NS="pssst-dnat-$$"
cleanup() {
  local rc=$?
  set +e
  netns_destroy "$NS"
  work_dir_kept "$rc" "${SCALE_OUT_KEEP:-0}" &&
    show_tails 8 "$WORK"/*.out "$WORK"/*.err "$WORK"/backend-*.log
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_work_dir
netns_create "$NS" || die "no network namespace"
# Not a shell function for processes put in the background: `ip netns exec`
# execs its command, so $! is then the command's own pid.
in_ns() { ip netns exec "$NS" "$@"; }

# The rules tested are the rules documented, byte for byte.
nft_documented "$HERE/dnat.nft" "$REPO_ROOT/docs/scaling-out.md" \
  || die "docs/scaling-out.md does not show tests/scale-out/dnat.nft as it is"
in_ns nft -f "$HERE/dnat.nft" || die "nft rejected dnat.nft"

# ------------------------------------------------------------- backends ----

declare -A BACKEND_PID=()   # 1..3 -> pid
backend_addr() { echo "127.0.0.$(($1 + 1)):7777"; }
BACKEND_LAUNCH=(ip netns exec "$NS")
source "$HERE/backends.sh"   # start_backend, stop_backend, stats_now, counter

answered() { counter "$(stats_now "$1")" answered; }

# The backend that answered most so far: the one with the most clients.
busiest() {
  local i best=1
  for i in 1 2 3; do
    [ "$(answered "$i")" -gt "$(answered "$best")" ] && best=$i
  done
  echo "$best"
}

# ---------------------------------------------------------------- bench ----

bench_field() {   # bench_field NAME LINE-KEY FIELD-NUMBER
  awk -v key="$2" -v n="$3" '$1 == key { print $n }' "$WORK/$1.out"
}
# latency NAME: "p50 ... p99 ... p99.9 ... max ..." from the bench's report.
latency() { sed -n 's/^latency  *\(p50 .*max [0-9.]* [µms]*\).*/\1/p' "$WORK/$1.out"; }
p99() { sed -n 's/^latency .* p99 \([0-9.]* [µms]*\)  p99\.9.*/\1/p' "$WORK/$1.out"; }

# run NAME FAULT: one bench of BENCH_SECONDS on a fresh pool; FAULT is
# none, KILL or STOP, sent to the busiest backend FAULT_AT seconds in.
# Dies unless every transaction succeeded and, with a fault, the clients
# of the failed backend moved to others.
run() {
  local name=$1 fault=$2 victim="" before="" bench rc i
  for i in 1 2 3; do
    if [ -n "${BACKEND_PID[$i]:-}" ]; then
      kill -CONT "${BACKEND_PID[$i]}"   # should it be the one hung last time
      stop_backend "$i"
    fi
    start_backend "$i"
  done
  ip netns exec "$NS" timeout 180 "$PSSST" bench --server "$SERVICE" --server-key "$SERVER_PUBLIC" \
    --concurrency "$CLIENTS" --duration "$BENCH_SECONDS" --requests 1000000000 \
    "${RETRY_ARGS[@]}" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  bench=$!
  if [ "$fault" != none ]; then
    sleep "$FAULT_AT"
    kill -0 "$bench" 2>/dev/null || die "$name: the bench ended before the fault"
    victim="$(busiest)"
    before="$(answered "$victim")"
    kill "-$fault" "${BACKEND_PID[$victim]}"
    say "   SIG$fault to backend $victim ($(backend_addr "$victim")) at ${FAULT_AT} s, after it answered $before"
  fi
  rc=0
  { wait "$bench" || rc=$?; } 2>/dev/null   # (not bash's "Killed" notice for the victim)
  local ok failed retried moved
  ok="$(bench_field "$name" transactions 2)"
  failed="$(bench_field "$name" transactions 4)"
  [ -n "$ok" ] && [ -n "$failed" ] || die "$name: no bench report (exit $rc): $(cat "$WORK/$name.out" "$WORK/$name.err")"
  [ "$failed" = 0 ] || die "$name: $failed transactions failed: $(cat "$WORK/$name.out")"
  [ "$rc" = 0 ] || die "$name: bench exited with $rc: $(cat "$WORK/$name.err")"
  [ "$ok" -ge 1000 ] || die "$name: only $ok transactions: not a load"
  retried="$(bench_field "$name" retried 2)"
  moved="$(sed -n 's/^retried .*, \([0-9]*\) of them on .*/\1/p' "$WORK/$name.out")"
  if [ "$fault" != none ]; then
    [ "$before" -gt 0 ] || die "$name: backend $victim had answered nothing: the fault hit no load"
    # Its clients' requests in flight were answered on new flows.
    [ "${moved:-0}" -ge 1 ] || die "$name: no reply came on a retransmission's new port: $(cat "$WORK/$name.out")"
  fi
  say "   $ok transactions, 0 failed; $retried answered after a retransmission ($moved on a new port); $(latency "$name")"
  if [ "$fault" = KILL ]; then
    rc=0
    wait "${BACKEND_PID[$victim]}" 2>/dev/null || rc=$?
    [ "$rc" = 137 ] || die "$name: backend $victim ended with status $rc, not by SIGKILL"
    unset "BACKEND_PID[$victim]"
  fi
}

# ----------------------------------------------------------------- main ----

SERVER_PUBLIC="$("$PSSST" keygen "$WORK/server.key")"
for i in 1 2 3; do start_backend "$i"; done
reply="$(in_ns timeout 10 "$PSSST" send --server "$SERVICE" --server-key "$SERVER_PUBLIC" "hello through DNAT")" \
  || die "no reply through the DNAT service address"
[ "$reply" = "hello through DNAT" ] || die "wrong reply through DNAT: $reply"
say "nftables DNAT (numgen random mod 3, as kube-proxy) on $SERVICE -> 127.0.0.2-4:7777, in netns $NS"
say "$CLIENTS clients for ${BENCH_SECONDS} s each run, retries: ${RETRY_ARGS[*]}"

say "1. no fault"
run steady none
say "2. SIGKILL of the busiest backend"
run kill KILL
say "3. SIGSTOP of the busiest backend (hung)"
run hang STOP

say "p99 without a fault $(p99 steady); with SIGKILL $(p99 kill); with SIGSTOP $(p99 hang)"
STATUS=0
say "PASS"
