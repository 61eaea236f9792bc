#!/usr/bin/env bash
# docs/security-model.md's nftables rate limit, tested: in a network namespace of its
# own (nothing on the host changes), `pssst serve` on 127.0.0.1:7777 behind
# tests/hostile/ratelimit.nft; a flood of valid requests from 127.0.0.2 is
# cut to about the limit, while a client on 127.0.0.3 is answered every time.
# Needs root (netns) and nftables (installed from Debian if missing; see
# tests/netns.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${PSSST_BIN:?PSSST_BIN must name the pssst binary}"
: "${PYTHON_BIN:?PYTHON_BIN must name a python with cryptography}"
fail() { echo "FAIL: $*" >&2; exit 1; }

source "$here/../netns.sh"
ensure_nftables || fail "no nftables"
ns="pssst-rl-$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/pssst-rl.XXXXXX")"
cleanup() {
  netns_destroy "$ns"
  rm -rf "$work"
}
trap cleanup EXIT
netns_create "$ns" || fail "no network namespace"
in_ns() { ip netns exec "$ns" "$@"; }
# The rules tested are the rules documented, byte for byte.
nft_documented "$here/ratelimit.nft" "$here/../../docs/security-model.md" || fail "docs/security-model.md does not show tests/hostile/ratelimit.nft as it is"
in_ns nft -f "$here/ratelimit.nft" || fail "nft rejected ratelimit.nft"

"$PSSST_BIN" keygen "$work/server.key" >/dev/null
in_ns "$PSSST_BIN" serve --key "$work/server.key" --listen 127.0.0.1:7777 >"$work/serve.out" 2>&1 &
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.05; done
grep -q listening "$work/serve.out" || fail "serve did not start: $(cat "$work/serve.out")"
pub="$(awk '{print $NF; exit}' "$work/serve.out")"

in_ns env PYTHONPATH="$here" "$PYTHON_BIN" - "$pub" <<'PY'
import socket, sys, threading, time
from wire import request

server = ("127.0.0.1", 7777)
public = bytes.fromhex(sys.argv[1])
pool = [request(public, b"flood %d" % i).packet for i in range(500)]

answered_flood = 0
def drain(s):
    """Counts the replies waiting on the non-blocking socket `s`."""
    global answered_flood
    try:
        while True:
            s.recv(65536)
            answered_flood += 1
    except BlockingIOError:
        pass

def flood(seconds=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.2", 0))
    s.setblocking(False)
    sent, until = 0, time.monotonic() + seconds
    while time.monotonic() < until:
        s.sendto(pool[sent % len(pool)], server)
        sent += 1
        if sent % 20 == 0:
            time.sleep(0.001)
        drain(s)
    time.sleep(0.3)
    drain(s)
    flood.sent = sent

t = threading.Thread(target=flood)
t.start()
legit = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
legit.bind(("127.0.0.3", 0))
legit.settimeout(1.0)
ok = 0
for i in range(20):
    p = request(public, b"legit %d" % i)
    legit.sendto(p.packet, server)
    try:
        if p.open_reply(legit.recv(65536)) == b"legit %d" % i:
            ok += 1
    except (TimeoutError, ValueError):
        pass
    time.sleep(0.05)
t.join()
rate = answered_flood / 2.0
print(f"ratelimit: flood sent {flood.sent} from 127.0.0.2, {answered_flood} answered "
      f"(~{rate:.0f}/s, limit 200/s + burst 100); legit client on 127.0.0.3: {ok}/20 answered")
assert flood.sent > 2000, "the flood was too small to test the limit"
assert answered_flood <= 200 * 2.5 + 100, "the rate limit did not hold"
assert answered_flood >= 100, "the limit let too little through"
assert ok == 20, "the rate limit hurt another source"
PY
echo "ok: nftables per-source rate limit"
