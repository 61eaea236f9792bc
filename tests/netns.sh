# Sourced (not run) by tests that need a network namespace of their own,
# so that nothing on the host changes, and nftables in it. Needs root.
#   ensure_nftables     installs nftables from Debian's packages if missing
#   netns_create NAME   a new namespace with its loopback up
#   netns_destroy NAME  stops every process in it (by pid), then deletes it;
#                       safe to call twice, or for a namespace never made
#   nft_documented RULES DOC  whether the nftables file RULES appears in the
#                       Markdown file DOC byte for byte (the rules tested
#                       are the rules documented)
# Each caller keeps its own `trap ... EXIT` that calls netns_destroy.

ensure_nftables() {
  command -v nft >/dev/null && return 0
  command -v apt-get >/dev/null || { echo "nftables is missing and there is no apt-get to install it" >&2; return 1; }
  echo "--- installing nftables from Debian's packages"
  apt-get update -q >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nftables >/dev/null \
    && command -v nft >/dev/null \
    || { echo "nftables is missing and cannot be installed" >&2; return 1; }
}

netns_create() {
  ip netns add "$1" || { echo "cannot create network namespace $1 (root needed)" >&2; return 1; }
  ip netns exec "$1" ip link set lo up
}

netns_destroy() {
  local ns=$1 pids
  pids="$(ip netns pids "$ns" 2>/dev/null || true)"
  if [ -n "$pids" ]; then
    # A stopped process (a test's hung server) must run again to see TERM.
    kill -CONT $pids 2>/dev/null || true
    kill -TERM $pids 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while [ -n "$(ip netns pids "$ns" 2>/dev/null || true)" ] && [ $SECONDS -lt $deadline ]; do
      sleep 0.1
    done
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
}

nft_documented() {
  python3 - "$1" "$2" <<'PY'
import sys
rules, doc = (open(p).read() for p in sys.argv[1:])
sys.exit(0 if rules.strip() in doc else 1)
PY
}
