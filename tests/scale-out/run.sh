#!/usr/bin/env bash
# Scale-out behind a stock UDP load balancer: three `pssst serve` processes
# sharing one private key behind nginx's `stream` UDP proxy (round robin,
# proxy_responses 1), on 127.0.0.1 only.
#
#   1. fairness: 3000 anonymous + 3000 client-authenticated transactions
#      (two `pssst bench` runs at once) through nginx; every reply verifies;
#      each backend's counters (printed by `pssst serve` when it stops) show
#      it answered at least FAIR_SHARE_PERCENT of the total.
#   2. throughput: `pssst bench` direct to one backend and through nginx,
#      alternated, in the same run; printed, not asserted.
#   3. failover, on a fresh pool and nginx each time: anonymous and
#      client-authenticated load through nginx while one backend is
#      a. killed (SIGKILL: its port answers ICMP "port unreachable") once
#         its live counters (`pssst serve --stats-file`) show it answered
#         KILL_AFTER_ANSWERED requests, or
#      b. hung (SIGSTOP: datagrams to it vanish, like an unreachable host);
#      no transaction may fail (client retransmissions reach the others),
#      nginx must have seen the fault, the others carry the load; the
#      killed backend's last snapshot shows the traffic it answered.
#   4. key rotation: the pool moves from key A to key B by SIGHUP under
#      load (docs/operations.md), with no failed transaction.
#
# Needs: $PSSST (the pssst binary), nginx with the stream module (installed
# from Debian's packages if missing, see ensure_nginx). Every process it
# starts is stopped on exit, failure included.
#
# Env: PSSST (default $CARGO_TARGET_DIR/release/pssst), PSSST_CACHE (work
# dirs go under it), SCALE_OUT_REQUESTS (per kind, default 3000),
# SCALE_OUT_KEEP=1 keeps the work dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEST_NAME=scale-out
source "$HERE/common.sh"
REQUESTS="${SCALE_OUT_REQUESTS:-3000}"   # per kind: anonymous, client-authenticated
FAIR_SHARE_PERCENT=25                    # round robin over 3 gives 33.3 %
BENCH_SECONDS=2                          # per throughput round
BACKENDS=3
KILL_AFTER_ANSWERED=200                  # 3a: the victim is killed after this many answers
STATS_INTERVAL_MS=100                    # backends rewrite their stats files this often


# ---------------------------------------------------------------- nginx ----

# The stream module is a separate dynamic module in Debian's nginx
# (libnginx-mod-stream); other builds may have it compiled in.
stream_module_line() {
  local v
  v="$(nginx -V 2>&1)"
  if grep -qE -- '--with-stream( |$)' <<<"$v"; then
    echo "# stream module compiled in"
    return 0
  fi
  local dir
  dir="$(sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p' <<<"$v")"
  for so in "$dir/ngx_stream_module.so" /usr/lib/nginx/modules/ngx_stream_module.so \
            /usr/lib64/nginx/modules/ngx_stream_module.so; do
    if [ -n "$so" ] && [ -f "$so" ]; then
      echo "load_module $so;"
      return 0
    fi
  done
  return 1
}

POLICY_RC_CREATED=0
ensure_nginx() {
  if command -v nginx >/dev/null 2>&1 && stream_module_line >/dev/null; then
    return 0
  fi
  command -v apt-get >/dev/null || die "nginx with the stream module is missing and there is no apt-get to install it"
  [ "$(id -u)" = 0 ] || die "nginx with the stream module is missing; installing it needs root"
  say "installing nginx and its stream module from Debian's packages"
  apt-get update -qq || die "apt-get update failed"
  local packages=()
  command -v nginx >/dev/null 2>&1 || packages+=(nginx)
  if apt-cache show libnginx-mod-stream >/dev/null 2>&1; then
    packages+=(libnginx-mod-stream)
  else
    die "no Debian package libnginx-mod-stream (apt-cache knows none): cannot get nginx's stream module"
  fi
  # Keep the package's own nginx service (port 80) from being started:
  # this test runs its own instance. Only if no policy is in place already,
  # and only the file created here is removed again.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" \
    || die "apt-get install ${packages[*]} failed"
  if [ "$POLICY_RC_CREATED" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=0
  fi
  command -v nginx >/dev/null || die "nginx still missing after installing ${packages[*]}"
  stream_module_line >/dev/null || die "nginx's stream module still missing after installing ${packages[*]}"
}

# ---------------------------------------------------- processes, cleanup ----

NGINX_PID=""
declare -A BACKEND_PID=()   # index -> pid

cleanup() {
  local rc=$?
  set +e
  [ "$POLICY_RC_CREATED" = 1 ] && rm -f /usr/sbin/policy-rc.d
  for pid in $(jobs -pr); do kill -TERM "$pid" 2>/dev/null; done
  if [ -n "$NGINX_PID" ]; then kill -TERM "$NGINX_PID" 2>/dev/null; fi
  for i in "${!BACKEND_PID[@]}"; do
    kill -CONT "${BACKEND_PID[$i]}" 2>/dev/null   # a backend left stopped by the hang test
    kill -TERM "${BACKEND_PID[$i]}" 2>/dev/null
  done
  # Give them a moment to stop, then make sure.
  local deadline=$((SECONDS + 5))
  while [ -n "$(jobs -pr)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  for pid in $(jobs -pr); do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if work_dir_kept "$rc" "${SCALE_OUT_KEEP:-0}"; then
    [ -f "$WORK/error.log" ] && { echo "--- nginx errors"; grep -v '\[notice\]' "$WORK/error.log" | tail -n 15; }
    show_tails 5 "$WORK"/backend-*.log
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

udp_port_in_use() {
  local hex
  hex="$(printf ':%04X' "$1")"
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' \
    /proc/net/udp /proc/net/udp6 2>/dev/null
}

# BASE_PORT: nginx listens on it, backend i on BASE_PORT + i.
pick_ports() {
  local base i busy
  for _ in $(seq 1 50); do
    base=$((20000 + (RANDOM % 2000) * 10))
    busy=0
    for i in $(seq 0 "$BACKENDS"); do
      udp_port_in_use $((base + i)) && busy=1
    done
    if [ "$busy" = 0 ]; then BASE_PORT=$base; return 0; fi
  done
  die "no free UDP ports on 127.0.0.1"
}

# Backend I listens on 127.0.0.1:BASE_PORT+I; start_backend, stop_backend,
# stats_now, counter and bad_counters come from backends.sh.
backend_addr() { echo "127.0.0.1:$((BASE_PORT + $1))"; }
BACKEND_LAUNCH=()
source "$HERE/backends.sh"

start_nginx() {
  local module backends="" i
  module="$(stream_module_line)" || die "nginx has no stream module"
  for i in $(seq 1 "$BACKENDS"); do
    backends+="        server 127.0.0.1:$((BASE_PORT + i)) max_fails=3 fail_timeout=2s;"$'\n'
  done
  awk -v prefix="$WORK" -v module="$module" -v listen="127.0.0.1:$BASE_PORT" -v backends="$backends" '
    $0 == "@BACKENDS@" { printf "%s", backends; next }
    { gsub("@PREFIX@", prefix); gsub("@STREAM_MODULE@", module); gsub("@LISTEN@", listen); print }
  ' "$HERE/nginx.conf.in" >"$WORK/nginx.conf"
  nginx -t -q -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" \
    || die "nginx rejects the generated config $WORK/nginx.conf"
  nginx -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" &
  NGINX_PID=$!
  local deadline=$((SECONDS + 10))
  until udp_port_in_use "$BASE_PORT"; do
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited at start: $(tail -n 5 "$WORK/error.log")"
    [ $SECONDS -lt $deadline ] || die "nginx did not listen within 10 s"
    sleep 0.05
  done
}

stop_nginx() {
  kill -TERM "$NGINX_PID" 2>/dev/null || die "nginx was not running any more"
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

# bench NAME ADDR [ARGS...]: `pssst bench` (every reply checked against the
# echo, non-zero exit if any transaction failed), output in $WORK/NAME.out.
# Run in the foreground, or as `bench_exec ... &`: then $! is the bench's
# own `timeout` process, which cleanup can stop.
bench_exec() {
  local name=$1 addr=$2
  shift 2
  exec timeout 120 "$PSSST" bench --server "$addr" --server-key "$SERVER_PUBLIC" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
}
bench() { (bench_exec "$@"); }
bench_ok() { awk '$1 == "transactions" { print $2 }' "$WORK/$1.out"; }
bench_retx() { sed -n 's/.* \([0-9][0-9]*\) retransmissions$/\1/p' "$WORK/$1.out"; }
bench_tps() { awk '$1 == "throughput" { gsub(",", "", $2); print $2 }' "$WORK/$1.out"; }
bench_check() {
  local name=$1 expect=$2 ok
  ok="$(bench_ok "$name")"
  [ "$ok" = "$expect" ] || die "$name: $ok of $expect transactions ok: $(cat "$WORK/$name.out" "$WORK/$name.err")"
}

# ----------------------------------------------------------------- main ----

ensure_nginx
say "$(nginx -v 2>&1), stream module: $(stream_module_line)"
new_work_dir
pick_ports
LB="127.0.0.1:$BASE_PORT"

SERVER_PUBLIC="$("$PSSST" keygen "$WORK/server.key")"
KEY_ARGS=(--key "$WORK/server.key")
"$PSSST" keygen "$WORK/client.key" >/dev/null
say "one server key shared by $BACKENDS backends (public $SERVER_PUBLIC); nothing else shared"

for i in $(seq 1 "$BACKENDS"); do start_backend "$i"; done
start_nginx
say "nginx on $LB -> backends 127.0.0.1:$((BASE_PORT + 1))..$((BASE_PORT + BACKENDS))"

reply="$(timeout 10 "$PSSST" send --server "$LB" --server-key "$SERVER_PUBLIC" "hello through nginx")" \
  || die "no reply through nginx"
[ "$reply" = "hello through nginx" ] || die "wrong reply through nginx: $reply"

# 1. Fairness --------------------------------------------------------------
say "1. fairness: $REQUESTS anonymous + $REQUESTS client-authenticated transactions through nginx"
bench_exec fair-anon "$LB" --requests "$REQUESTS" --concurrency 4 &
anon=$!
bench_exec fair-auth "$LB" --requests "$REQUESTS" --concurrency 4 --key "$WORK/client.key" &
auth=$!
wait "$anon" || die "anonymous load through nginx failed: $(cat "$WORK/fair-anon.out" "$WORK/fair-anon.err")"
wait "$auth" || die "client-authenticated load through nginx failed: $(cat "$WORK/fair-auth.out" "$WORK/fair-auth.err")"
bench_check fair-anon "$REQUESTS"
bench_check fair-auth "$REQUESTS"
retx=$(( $(bench_retx fair-anon) + $(bench_retx fair-auth) ))
transactions=$((2 * REQUESTS))
say "   all $transactions replies verified ($retx retransmissions)"

total=0
declare -A ANSWERED=()
for i in $(seq 1 "$BACKENDS"); do
  stop_backend "$i"
  line="$COUNTERS"
  bad="$(bad_counters "$line")"
  [ -z "$bad" ] || die "backend $i dropped or failed packets: $line"
  ANSWERED[$i]="$(counter "$line" answered)"
  [ "$(counter "$line" received)" = "${ANSWERED[$i]}" ] || die "backend $i: received != answered: $line"
  total=$((total + ANSWERED[$i]))
done
# The probe through nginx above is one more; retransmissions may be answered twice.
{ [ "$total" -ge $((transactions + 1)) ] && [ "$total" -le $((transactions + 1 + retx)) ]; } \
  || die "backends answered $total, expected $((transactions + 1)) (+ up to $retx retransmissions)"
shares=""
for i in $(seq 1 "$BACKENDS"); do
  pct=$((100 * ANSWERED[$i] / total))
  shares+=" backend$i=${ANSWERED[$i]} ($pct%)"
  [ $((100 * ANSWERED[$i])) -ge $((FAIR_SHARE_PERCENT * total)) ] \
    || die "backend $i answered ${ANSWERED[$i]} of $total, under the fair-share bound of $FAIR_SHARE_PERCENT%;" \
           "nginx: $(grep -v '\[notice\]' "$WORK/error.log" | tail -n 5)"
done
say "   answered:$shares; total $total; bound: each >= $FAIR_SHARE_PERCENT% of the total: ok"

# Stateless: the pool restarts from nothing but the key file.
for i in $(seq 1 "$BACKENDS"); do start_backend "$i"; done

# 2. Throughput ------------------------------------------------------------
ROUNDS=3
say "2. throughput (anonymous, 64-byte messages, 8 clients, $ROUNDS alternated rounds of ${BENCH_SECONDS} s)"
DIRECT="127.0.0.1:$((BASE_PORT + 1))"
direct_tps=()
lb_tps=()
for round in $(seq 1 "$ROUNDS"); do
  bench "direct-$round" "$DIRECT" --requests 10000000 --duration "$BENCH_SECONDS" --concurrency 8 \
    || die "direct bench failed: $(cat "$WORK/direct-$round.out" "$WORK/direct-$round.err")"
  direct_tps+=("$(bench_tps "direct-$round")")
  bench "nginx-$round" "$LB" --requests 10000000 --duration "$BENCH_SECONDS" --concurrency 8 \
    || die "bench through nginx failed: $(cat "$WORK/nginx-$round.out" "$WORK/nginx-$round.err")"
  lb_tps+=("$(bench_tps "nginx-$round")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
DIRECT_TPS="$(median "${direct_tps[@]}")"
LB_TPS="$(median "${lb_tps[@]}")"
say "   direct to one backend:     median $DIRECT_TPS transactions/s (rounds: ${direct_tps[*]})"
say "   through nginx, $BACKENDS backends: median $LB_TPS transactions/s (rounds: ${lb_tps[*]})"
say "   ($(nproc) cores shared by the clients, nginx and the backends; not asserted)"
for i in $(seq 1 "$BACKENDS"); do stop_backend "$i"; done

# 3. Failover --------------------------------------------------------------
# failover kill|hang: a fresh pool, anonymous and client-authenticated load
# through nginx for FAILOVER_SECONDS, and at FAULT_AT one backend is
#   kill: killed (SIGKILL): its port answers ICMP "port unreachable";
#   hang: stopped (SIGSTOP), resumed after the load: datagrams to it vanish
#         without an error, like a hung or unreachable host.
# No transaction may fail; the survivors carry the load.
# Long enough for FAILOVER_TRANSACTIONS at the rate phase 1 saw through
# nginx (this machine is shared, and its speed varies a lot): 4 to 30 s.
FAILOVER_TRANSACTIONS=8000
fair_seconds="$(cat "$WORK/fair-anon.out" "$WORK/fair-auth.out" \
  | sed -n 's/^throughput .* over \([0-9.]*\) s$/\1/p' | sort -n | tail -n 1)"
FAILOVER_SECONDS="$(awk -v t="$fair_seconds" -v n="$transactions" -v want="$FAILOVER_TRANSACTIONS" \
  'BEGIN { s = (t > 0 ? want * t / n : 4); s = int(s + 0.999); if (s < 4) s = 4; if (s > 30) s = 30; print s }')"
FAULT_AT="$(awk -v s="$FAILOVER_SECONDS" 'BEGIN { print s / 4 }')"
failover() {
  local mode=$1 victim name ok retx failed down i line survivors="" carried=0 victim_line="" polls
  case "$mode" in
    kill) victim=$BACKENDS ;;
    hang) victim=2 ;;
  esac
  # A fresh pool, and a fresh nginx: nginx would keep a backend that failed
  # in the previous run out of the rotation for fail_timeout.
  stop_nginx
  for i in $(seq 1 "$BACKENDS"); do start_backend "$i"; done
  start_nginx
  local log_start
  log_start="$(wc -l <"$WORK/error.log")"
  if [ "$mode" = kill ]; then
    say "3$2. failover ($mode): load through nginx for ${FAILOVER_SECONDS} s, backend $victim killed once it answered $KILL_AFTER_ANSWERED"
  else
    say "3$2. failover ($mode): load through nginx for ${FAILOVER_SECONDS} s, backend $victim hung at ${FAULT_AT} s"
  fi
  bench_exec "$mode-anon" "$LB" --requests 10000000 --duration "$FAILOVER_SECONDS" --concurrency 4 &
  local anon=$!
  bench_exec "$mode-auth" "$LB" --requests 10000000 --duration "$FAILOVER_SECONDS" --concurrency 4 --key "$WORK/client.key" &
  local auth=$!
  if [ "$mode" = kill ]; then
    # Poll its live counters, every 0.05 s for at most half the load
    # (FAILOVER_SECONDS / 2 = 2 * FAULT_AT), until it answered enough.
    polls="$(awk -v s="$FAILOVER_SECONDS" 'BEGIN { print int(s * 10) }')"
    for _ in $(seq 1 "$polls"); do
      [ "$(counter "$(stats_now "$victim")" answered)" -ge "$KILL_AFTER_ANSWERED" ] && break
      { kill -0 "$anon" && kill -0 "$auth"; } 2>/dev/null || break
      sleep 0.05
    done
    line="$(stats_now "$victim")"
    [ "$(counter "$line" answered)" -ge "$KILL_AFTER_ANSWERED" ] \
      || die "kill: backend $victim answered only $(counter "$line" answered) (< $KILL_AFTER_ANSWERED) in $((polls / 20)) s: $line"
  else
    sleep "$FAULT_AT"
  fi
  { kill -0 "$anon" && kill -0 "$auth"; } 2>/dev/null || die "the load ended before the fault"
  if [ "$mode" = kill ]; then
    kill -KILL "${BACKEND_PID[$victim]}"
    wait "${BACKEND_PID[$victim]}" 2>/dev/null || true
    unset "BACKEND_PID[$victim]"
  else
    kill -STOP "${BACKEND_PID[$victim]}"
  fi
  wait "$anon" || die "anonymous load failed ($mode): $(cat "$WORK/$mode-anon.out" "$WORK/$mode-anon.err")"
  wait "$auth" || die "client-authenticated load failed ($mode): $(cat "$WORK/$mode-auth.out" "$WORK/$mode-auth.err")"
  [ "$mode" = hang ] && kill -CONT "${BACKEND_PID[$victim]}"
  for name in "$mode-anon" "$mode-auth"; do
    grep -q ' 0 failed' "$WORK/$name.out" || die "$name: transactions failed: $(cat "$WORK/$name.out")"
  done
  ok=$(( $(bench_ok "$mode-anon") + $(bench_ok "$mode-auth") ))
  retx=$(( $(bench_retx "$mode-anon") + $(bench_retx "$mode-auth") ))
  [ "$ok" -ge 3000 ] || die "only $ok transactions in the $mode run: not several thousand"
  local upstream="upstream: \"127.0.0.1:$((BASE_PORT + victim))\""
  tail -n +"$((log_start + 1))" "$WORK/error.log" >"$WORK/error.log.$mode"
  failed="$(grep '\[error\]' "$WORK/error.log.$mode" | grep -cF "$upstream" || true)"
  down="$(grep 'temporarily disabled' "$WORK/error.log.$mode" | grep -cF "$upstream" || true)"
  [ "$down" -ge 1 ] || die "$mode: nginx never took backend $victim out: the fault did not hit the load"
  if [ "$mode" = kill ]; then
    # The killed backend's last snapshot: what it answered before the kill
    # (at most STATS_INTERVAL_MS of answers later than that are not in it).
    victim_line="$(stats_now "$victim")"
    [ "$(counter "$victim_line" answered)" -ge "$KILL_AFTER_ANSWERED" ] \
      || die "kill: backend $victim's last snapshot shows $(counter "$victim_line" answered) answered: $victim_line"
    bad="$(bad_counters "$victim_line")"
    [ -z "$bad" ] || die "kill: backend $victim dropped or failed packets before the kill: $victim_line"
    survivors+=" backend$victim(killed, last snapshot)=$(counter "$victim_line" answered)"
  fi
  for i in $(seq 1 "$BACKENDS"); do
    [ -n "${BACKEND_PID[$i]:-}" ] || continue
    stop_backend "$i"
    line="$COUNTERS"
    if [ "$i" = "$victim" ]; then
      # It answered a third of the load until it hung (plus what was
      # queued when it resumed): the fault hit a backend in use.
      [ "$(counter "$line" answered)" -ge 100 ] \
        || die "$mode: backend $i answered only $(counter "$line" answered) before it hung"
      survivors+=" backend$i(hung)=$(counter "$line" answered)"
      continue
    fi
    bad="$(bad_counters "$line")"
    [ -z "$bad" ] || die "surviving backend $i dropped or failed packets: $line"
    survivors+=" backend$i=$(counter "$line" answered)"
    carried=$((carried + $(counter "$line" answered)))
  done
  # The fault comes a quarter of the way in: before it the victim had a
  # third of the load, after it none, so the others carry well over half.
  [ $((2 * carried)) -gt "$ok" ] || die "$mode: the other backends answered only $carried of $ok"
  if [ "$mode" = kill ]; then
    # Every answer is to a datagram a client sent (a transaction or one of
    # its retransmissions), so the counters cannot add up to more.
    local victim_answered
    victim_answered="$(counter "$victim_line" answered)"
    [ $((victim_answered + carried)) -le $((ok + retx)) ] \
      || die "kill: backends answered $victim_answered + $carried, more than the $ok transactions + $retx retransmissions sent"
  fi
  say "   $ok transactions (anonymous + client-authenticated), 0 failed, $retx retransmissions;" \
      "nginx: $failed sessions to backend $victim failed, $down times taken out of the rotation"
  say "   answered:$survivors"
  if [ "$mode" = kill ]; then
    say "   backend $victim answered $(counter "$victim_line" answered) before the kill (its last snapshot);" \
        "the survivors $carried, for $ok transactions + $retx retransmissions"
  fi
}
failover kill a
failover hang b

# 4. Key rotation ----------------------------------------------------------
# The procedure of docs/operations.md, on a fresh pool, under load through
# nginx, every backend started with `--key current.key --key next.key`:
#   a. both files hold the old key A (a key given twice counts once);
#   b. next.key := B, SIGHUP every backend: A and B are both answered;
#   c. clients move to B (a second load starts), the A clients finish;
#   d. current.key := B, SIGHUP every backend: only B is answered.
# No transaction of either load may fail; afterwards A gets no reply.
ROTATION_SECONDS=6
hup_all() {
  local i
  for i in $(seq 1 "$BACKENDS"); do kill -HUP "${BACKEND_PID[$i]}"; done
}
# reloaded N: wait until every backend logged N reloads.
reloaded() {
  local i deadline=$((SECONDS + 15))
  for i in $(seq 1 "$BACKENDS"); do
    until [ "$(grep -c ' reloaded ' "$WORK/backend-$i.log")" -ge "$1" ]; do
      grep -q 'reload failed' "$WORK/backend-$i.log" && die "backend $i: $(grep 'reload failed' "$WORK/backend-$i.log")"
      [ $SECONDS -lt $deadline ] || die "backend $i did not reload within 15 s: $(cat "$WORK/backend-$i.log")"
      sleep 0.05
    done
  done
}
rotation() {
  local old new old_public new_public
  old_public="$SERVER_PUBLIC"
  new_public="$("$PSSST" keygen "$WORK/new.key")"
  stop_nginx
  cp "$WORK/server.key" "$WORK/current.key"
  cp "$WORK/server.key" "$WORK/next.key"
  KEY_ARGS=(--key "$WORK/current.key" --key "$WORK/next.key")
  for i in $(seq 1 "$BACKENDS"); do start_backend "$i"; done
  start_nginx
  say "4. key rotation under load through nginx: A -> B by SIGHUP, ${ROTATION_SECONDS} s of load per key"
  bench_exec rotation-a "$LB" --requests 10000000 --duration "$ROTATION_SECONDS" --concurrency 4 &
  old=$!
  sleep 1
  cp "$WORK/new.key" "$WORK/next.key"
  hup_all
  reloaded 1
  SERVER_PUBLIC="$new_public" bench_exec rotation-b "$LB" --requests 10000000 \
    --duration "$ROTATION_SECONDS" --concurrency 4 --key "$WORK/client.key" &
  new=$!
  wait "$old" || die "load on the old key failed: $(cat "$WORK/rotation-a.out" "$WORK/rotation-a.err")"
  cp "$WORK/new.key" "$WORK/current.key"
  hup_all
  reloaded 2
  wait "$new" || die "load on the new key failed: $(cat "$WORK/rotation-b.out" "$WORK/rotation-b.err")"
  for name in rotation-a rotation-b; do
    grep -q ' 0 failed' "$WORK/$name.out" || die "$name: transactions failed: $(cat "$WORK/$name.out")"
  done
  timeout 10 "$PSSST" send --server "$LB" --server-key "$new_public" "B after" >/dev/null \
    || die "the new key is not answered after the rotation"
  ! timeout 10 "$PSSST" send --server "$LB" --server-key "$old_public" --timeout-ms 200 --retries 1 "A after" \
    >/dev/null 2>&1 || die "the old key is still answered after the rotation"
  say "   $(bench_ok rotation-a) transactions on the old key, $(bench_ok rotation-b) on the new (client-authenticated), 0 failed;" \
      "then the new key is answered and the old one is not"
  for i in $(seq 1 "$BACKENDS"); do stop_backend "$i"; done
}
rotation

STATUS=0
say "PASS"
