# Sourced by the scale-out tests (run.sh, dnat.sh): a pool of `pssst serve`
# backends sharing one key, started, stopped and read through their stats
# files. The caller defines die, backend_addr I (the address of backend I),
# BACKEND_LAUNCH (an array: empty, or e.g. `ip netns exec NS`), and the
# globals WORK (holding server.key), PSSST, STATS_INTERVAL_MS and the
# associative array BACKEND_PID (index -> pid).

# start_backend I: `pssst serve` on $(backend_addr I) (run through
# BACKEND_LAUNCH, which must exec its command so that $! is the server's
# pid), sharing the key, its live counters in $WORK/backend-I.stats (see
# stats_now).
start_backend() {
  local i=$1 log="$WORK/backend-$1.log"
  : >"$log"
  rm -f "$WORK/backend-$i.stats"
  # KEY_ARGS, when set, replaces the shared key (the rotation phase).
  local keys=(--key "$WORK/server.key")
  if [ -n "${KEY_ARGS+set}" ]; then keys=("${KEY_ARGS[@]}"); fi
  "${BACKEND_LAUNCH[@]}" "$PSSST" serve "${keys[@]}" --listen "$(backend_addr "$i")" \
    --stats-file "$WORK/backend-$i.stats" --stats-interval-ms "$STATS_INTERVAL_MS" >"$log" 2>&1 &
  BACKEND_PID[$i]=$!
  local deadline=$((SECONDS + 10))
  until grep -q 'listening on' "$log"; do
    kill -0 "${BACKEND_PID[$i]}" 2>/dev/null || die "backend $i exited at start: $(cat "$log")"
    [ $SECONDS -lt $deadline ] || die "backend $i did not start within 10 s"
    sleep 0.05
  done
}

# stop_backend I: SIGTERM, wait, and set COUNTERS to its final counters line
# ("received=N answered=N ..."), which `pssst serve` prints when it stops.
# (Not in a $(...) subshell: only this shell can wait for its children.)
stop_backend() {
  local i=$1 log="$WORK/backend-$1.log" pid="${BACKEND_PID[$1]}"
  kill -TERM "$pid" 2>/dev/null || die "backend $i was not running any more"
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die "backend $i did not stop within 10 s of SIGTERM"
    sleep 0.05
  done
  wait "$pid" || die "backend $i exited with an error: $(cat "$log")"
  unset "BACKEND_PID[$i]"
  COUNTERS="$(sed -n 's/^pssst serve: stopped; //p' "$log" | tail -n 1)"
  [ -n "$COUNTERS" ] || die "backend $i printed no counters when stopped: $(cat "$log")"
  # Its stats file was rewritten once more at shutdown: the same counters.
  [ "$(stats_now "$i")" = "$COUNTERS" ] \
    || die "backend $i: stats file '$(stats_now "$i")' != stopped line '$COUNTERS'"
}

# stats_now I: backend I's counters line ("received=N answered=N ..."), as
# its --stats-file last showed them (written at start, every
# STATS_INTERVAL_MS, at shutdown; replaced by rename, so never partial).
# Still readable after the backend was killed: its last snapshot.
stats_now() {
  local line
  line="$(cat "$WORK/backend-$1.stats" 2>/dev/null)" || die "backend $1 has no stats file"
  [[ "$line" == received=* ]] || die "backend $1: unexpected stats file '$line'"
  echo "$line"
}

# counter LINE NAME: the value of NAME=... in a counters line (0 if absent).
counter() {
  local v
  v="$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")"
  echo "${v:-0}"
}

# Counters other than received/answered (drops, send failures, no reply).
bad_counters() {
  tr ' ' '\n' <<<"$1" | grep -vE '^(received|answered)=' || true
}
