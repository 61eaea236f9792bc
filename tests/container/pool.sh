#!/usr/bin/env bash
# The container image as a pool: builds it (deploy/build-image.sh), checks
# what it is (FROM scratch: no shell; numeric non-root user; entrypoint
# pssst), then runs three containers of it, read-only root, no capabilities,
# no privilege gain, the key a read-only mounted file, as the backends of
# the nftables DNAT Service of tests/scale-out/dnat.nft (the way kube-proxy
# programs a UDP Service), in a network namespace of its own. CLIENTS
# `pssst bench` clients load the service address for BENCH_SECONDS; FAULT_AT
# seconds in, the busiest container is killed (`podman kill -s KILL`); the
# run must end with 0 failed transactions (the clients retry on
# LB_FAULT_RETRY_ARGS, see tests/scale-out/common.sh for why). A container whose key file is
# missing must exit non-zero with one `error:` line.
#
# Needs root, podman + runc and nftables (installed from Debian if missing;
# fails, never skips, when podman cannot run). Every container, the
# namespace and the image are gone on exit, failure included.
#
# Env: PSSST (the host's pssst, for the clients; default
# $CARGO_TARGET_DIR/release/pssst), PSSST_CACHE, CONTAINER_BENCH_SECONDS
# (default 15), CONTAINER_KEEP=1 keeps the work dir and the image.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEST_NAME=container-pool
source "$HERE/../scale-out/common.sh"
BENCH_SECONDS="${CONTAINER_BENCH_SECONDS:-15}"
CLIENTS=12
FAULT_AT=5
SERVICE=127.0.0.10:7777   # as in tests/scale-out/dnat.nft
IMAGE_UID=65532           # deploy/Containerfile's USER
source "$REPO_ROOT/tests/netns.sh"
source "$HERE/podman-env.sh"

ensure_nftables || die "no nftables"

NS="pssst-ctr-$$"
TAG="localhost/pssst-test:$$"
NAMES=()
remove_image() { podman rmi -f "$TAG" >/dev/null 2>&1; }
cleanup() {
  local rc=$?
  set +e
  for name in "${NAMES[@]}"; do podman rm -f -t 0 "$name" >/dev/null 2>&1; done
  netns_destroy "$NS"
  # The image goes before WORK does: podman's configuration is in it.
  work_dir_kept "$rc" "${CONTAINER_KEEP:-0}" remove_image &&
    show_tails 8 "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_work_dir
chmod 0755 "$WORK"
ensure_podman "$WORK/podman" || die "podman cannot run here (see above)"

# ---------------------------------------------------------------- image ----

"$REPO_ROOT/deploy/build-image.sh" "$TAG" >"$WORK/build.log" 2>&1 || die "deploy/build-image.sh failed: $(tail -n 20 "$WORK/build.log")"
say "$(grep '^build-image:' "$WORK/build.log")"
user="$(podman image inspect --format '{{.Config.User}}' "$TAG")"
[ "$user" = "$IMAGE_UID:$IMAGE_UID" ] || die "image user is '$user', not $IMAGE_UID:$IMAGE_UID"
entrypoint="$(podman image inspect --format '{{json .Config.Entrypoint}}' "$TAG")"
[ "$entrypoint" = '["/pssst"]' ] || die "image entrypoint is $entrypoint"
layers="$(podman image inspect --format '{{len .RootFS.Layers}}' "$TAG")"
[ "$layers" = 1 ] || die "image has $layers layers, not one (FROM scratch + the binary)"
if podman run --rm --network none --entrypoint /bin/sh "$TAG" -c true >/dev/null 2>&1; then
  die "the image has a shell"
fi

# A missing key file: one clear error line, a non-zero exit.
rc=0
podman run --rm --network none --read-only "$TAG" serve --key /etc/pssst/server.key \
  >"$WORK/missing-key.out" 2>"$WORK/missing-key.err" || rc=$?
[ "$rc" != 0 ] || die "serve without its key file exited 0"
errors="$(grep -c '^error: ' "$WORK/missing-key.err" || true)"
[ "$errors" = 1 ] && [ "$(wc -l <"$WORK/missing-key.err")" = 1 ] \
  || die "serve without its key file did not print exactly one error line: $(cat "$WORK/missing-key.err")"
grep -q '/etc/pssst/server.key' "$WORK/missing-key.err" || die "the error does not name the key file: $(cat "$WORK/missing-key.err")"
say "missing key file: exit $rc, $(cat "$WORK/missing-key.err")"

# ------------------------------------------------------------- the pool ----

mkdir -p "$WORK/keys" "$WORK/stats"
SERVER_PUBLIC="$("$PSSST" keygen "$WORK/keys/server.key")"
# The container's user owns its key (mode 0600 from keygen) and stats dir.
chown "$IMAGE_UID:$IMAGE_UID" "$WORK/keys/server.key" "$WORK/stats"

netns_create "$NS" || die "no network namespace"
ip netns exec "$NS" nft -f "$REPO_ROOT/tests/scale-out/dnat.nft" || die "nft rejected dnat.nft"
in_ns() { ip netns exec "$NS" "$@"; }

backend_addr() { echo "127.0.0.$(($1 + 1)):7777"; }
container_name() { echo "pssst-pool-$$-$1"; }

# start_container I: backend I of the DNAT service, in the test's namespace.
start_container() {
  local i=$1 name
  name="$(container_name "$i")"
  NAMES+=("$name")
  podman run -d --name "$name" --network "ns:/run/netns/$NS" \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$WORK/keys:/etc/pssst:ro" -v "$WORK/stats:/stats" \
    "$TAG" serve --key /etc/pssst/server.key --listen "$(backend_addr "$i")" \
    --stats-file "/stats/backend-$i.stats" --stats-interval-ms 100 >/dev/null \
    || die "podman run of backend $i failed"
  local deadline=$((SECONDS + 20))
  until podman logs "$name" 2>&1 | grep -q 'listening on'; do
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] \
      || die "container $i exited at start: $(podman logs "$name" 2>&1)"
    [ $SECONDS -lt $deadline ] || die "container $i did not start within 20 s"
    sleep 0.1
  done
}

answered() {
  local line v
  line="$(cat "$WORK/stats/backend-$1.stats")" || die "backend $1 has no stats file"
  v="$(tr ' ' '\n' <<<"$line" | sed -n 's/^answered=//p')"
  echo "${v:-0}"
}
busiest() {
  local i best=1
  for i in 1 2 3; do [ "$(answered "$i")" -gt "$(answered "$best")" ] && best=$i; done
  echo "$best"
}

for i in 1 2 3; do start_container "$i"; done
reply="$(in_ns timeout 10 "$PSSST" send --server "$SERVICE" --server-key "$SERVER_PUBLIC" "hello, containers")" \
  || die "no reply through the DNAT service address"
[ "$reply" = "hello, containers" ] || die "wrong reply through DNAT: $reply"
# The Kubernetes readiness probe's command (deploy/k8s/deployment.yaml), run
# in a container as the kubelet runs it: no shell, the image's own binary.
probe="$(podman exec "$(container_name 1)" /pssst send --server "$(backend_addr 1)" \
  --server-key-file /etc/pssst/server.key --timeout-ms 300 --retries 2 ready)" \
  || die "the readiness probe's command failed in a serving container"
[ "$probe" = ready ] || die "the readiness probe got '$probe'"
say "three containers behind nftables DNAT on $SERVICE (netns $NS); $CLIENTS clients for $BENCH_SECONDS s"

in_ns timeout 180 "$PSSST" bench --server "$SERVICE" --server-key "$SERVER_PUBLIC" \
  --concurrency "$CLIENTS" --duration "$BENCH_SECONDS" --requests 1000000000 \
  "${LB_FAULT_RETRY_ARGS[@]}" >"$WORK/bench.out" 2>"$WORK/bench.err" &
bench=$!
sleep "$FAULT_AT"
kill -0 "$bench" 2>/dev/null || die "the bench ended before the fault: $(cat "$WORK/bench.out" "$WORK/bench.err")"
victim="$(busiest)"
before="$(answered "$victim")"
[ "$before" -gt 0 ] || die "backend $victim had answered nothing: the fault would hit no load"
podman kill --signal KILL "$(container_name "$victim")" >/dev/null || die "podman kill failed"
say "killed container $victim ($(backend_addr "$victim")) at $FAULT_AT s, after it answered $before"
rc=0
wait "$bench" || rc=$?
ok="$(awk '$1 == "transactions" { print $2 }' "$WORK/bench.out")"
failed="$(awk '$1 == "transactions" { print $4 }' "$WORK/bench.out")"
[ -n "$ok" ] && [ -n "$failed" ] || die "no bench report (exit $rc): $(cat "$WORK/bench.out" "$WORK/bench.err")"
[ "$failed" = 0 ] || die "$failed transactions failed: $(cat "$WORK/bench.out")"
[ "$rc" = 0 ] || die "bench exited with $rc: $(cat "$WORK/bench.err")"
[ "$ok" -ge 1000 ] || die "only $ok transactions: not a load"
state="$(podman inspect --format '{{.State.Running}} {{.State.ExitCode}}' "$(container_name "$victim")")"
[ "$state" = "false 137" ] || die "the killed container is '$state', not 'false 137'"
for i in 1 2 3; do
  [ "$i" = "$victim" ] && continue
  [ "$(podman inspect --format '{{.State.Running}}' "$(container_name "$i")")" = true ] \
    || die "container $i stopped: $(podman logs "$(container_name "$i")" 2>&1 | tail -n 5)"
done
say "$ok transactions, 0 failed; $(grep '^retried' "$WORK/bench.out")"
STATUS=0
say "PASS"
