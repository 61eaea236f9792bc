#!/usr/bin/env bash
# pssst-udp and the `pssst` CLI: library tests, every command end to end on
# loopback, error paths, and a soak (valid clients during a junk flood, the
# server's memory watched). Loopback only; every wait is bounded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cargo build --release -p pssst-cli
PSSST="$CARGO_TARGET_DIR/release/pssst"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pssst-udp-cli.XXXXXX")"
SERVER_PIDS=()
cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Starts `pssst serve --listen 127.0.0.1:0 ARGS...` in the background and
# sets ADDR, SERVER_PUB, SERVER_PID, SERVER_OUT from its first line.
start_server() {
  SERVER_OUT="$WORK/serve.$RANDOM.out"
  "$PSSST" serve --listen 127.0.0.1:0 "$@" >"$SERVER_OUT" 2>"$SERVER_OUT.err" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do
    grep -q "listening on" "$SERVER_OUT" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "serve $* died: $(cat "$SERVER_OUT.err")"
    sleep 0.05
  done
  local line; line="$(head -n1 "$SERVER_OUT")"
  [[ "$line" == *"listening on"* ]] || fail "serve $* did not start: $line"
  ADDR="$(sed -E 's/.*listening on ([^ ]+).*/\1/' <<<"$line")"
  SERVER_PUB="$(awk '{print $NF}' <<<"$line")"
}

# SIGTERM, wait (bounded), require exit 0 and a "stopped" line.
stop_server() {
  kill -TERM "$SERVER_PID"
  local status=0
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "serve did not stop on SIGTERM"
  wait "$SERVER_PID" || status=$?
  [ "$status" = 0 ] || fail "serve exited $status on SIGTERM"
  grep -q "stopped; received=" "$SERVER_OUT" || fail "serve printed no counters"
}

# expect_error "what" "expected text" cmd...: exit 1, one stderr line
# starting with "error:" and containing the text, no panic.
expect_error() {
  local what="$1" text="$2"; shift 2
  local status=0
  "$@" >"$WORK/err.out" 2>"$WORK/err.txt" </dev/null || status=$?
  [ "$status" = 1 ] || fail "$what: exit status $status, expected 1 ($(cat "$WORK/err.txt"))"
  [ "$(wc -l <"$WORK/err.txt")" = 1 ] || fail "$what: stderr is not one line: $(cat "$WORK/err.txt")"
  grep -q '^error: ' "$WORK/err.txt" || fail "$what: stderr lacks 'error:': $(cat "$WORK/err.txt")"
  grep -qF -- "$text" "$WORK/err.txt" || fail "$what: stderr lacks '$text': $(cat "$WORK/err.txt")"
  grep -q panicked "$WORK/err.txt" && fail "$what: panicked"
  pass "$what -> $(cat "$WORK/err.txt")"
}

echo "--- library/CLI tests (fmt and clippy: leg 10)"
cargo test --release -p pssst-udp -p pssst-cli
# The async client (feature `tokio`, off by default).
cargo test -p pssst-udp --features tokio

echo "--- keygen / pubkey"
pub="$("$PSSST" keygen "$WORK/server.key")"
[[ "$pub" =~ ^[0-9a-f]{64}$ ]] || fail "keygen printed $pub"
[ "$(stat -c %a "$WORK/server.key")" = 600 ] || fail "key file mode $(stat -c %a "$WORK/server.key")"
[[ "$(cat "$WORK/server.key")" =~ ^[0-9a-f]{64}$ ]] || fail "key file is not 64 hex digits"
[ "$("$PSSST" pubkey "$WORK/server.key")" = "$pub" ] || fail "pubkey differs from keygen"
expect_error "keygen refuses to overwrite" "already exists" "$PSSST" keygen "$WORK/server.key"
"$PSSST" keygen --force "$WORK/server.key" >/dev/null
[ "$("$PSSST" pubkey "$WORK/server.key")" != "$pub" ] || fail "keygen --force kept the old key"
pass "keygen writes a 0600 hex key, pubkey agrees, --force replaces"

# PEM keys from OpenSSL: the public key must match OpenSSL's own.
command -v openssl >/dev/null || fail "openssl is needed for the PEM key test"
openssl genpkey -algorithm X25519 -out "$WORK/openssl.pem" 2>/dev/null
openssl_pub="$(openssl pkey -in "$WORK/openssl.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')"
[ "$("$PSSST" pubkey "$WORK/openssl.pem")" = "$openssl_pub" ] || fail "PEM key: public key differs from openssl's"
pass "pubkey reads an openssl-generated PEM PKCS#8 X25519 key ($openssl_pub)"
openssl genpkey -algorithm ED25519 -out "$WORK/ed25519.pem" 2>/dev/null
expect_error "pubkey refuses an Ed25519 PEM key" "Ed25519" "$PSSST" pubkey "$WORK/ed25519.pem"

echo "--- serve (echo) / send"
"$PSSST" keygen "$WORK/alice.key" >"$WORK/alice.pub"
"$PSSST" keygen "$WORK/mallory.key" >/dev/null
start_server --key "$WORK/server.key" --workers 2
[ "$SERVER_PUB" = "$("$PSSST" pubkey "$WORK/server.key")" ] || fail "serve announces a different key"
reply="$("$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" "hello, anonymous")"
[ "$reply" = "hello, anonymous" ] || fail "anonymous send got '$reply'"
reply="$("$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/alice.key" "hello, alice")"
[ "$reply" = "hello, alice" ] || fail "authenticated send got '$reply'"
head -c 3000 /dev/urandom >"$WORK/blob"
"$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" <"$WORK/blob" >"$WORK/blob.reply"
cmp -s "$WORK/blob" "$WORK/blob.reply" || fail "binary message from stdin not echoed"
[ "$("$PSSST" send --server "localhost:${ADDR##*:}" --server-key "$SERVER_PUB" "by name")" = "by name" ] \
  || fail "send to localhost:PORT"
pass "send: anonymous, authenticated, binary stdin, host name"

echo "--- bench"
"$PSSST" bench --server "$ADDR" --server-key "$SERVER_PUB" --requests 3000 --concurrency 4 | tee "$WORK/bench.txt"
grep -q "3000 ok, 0 failed" "$WORK/bench.txt" || fail "bench did not complete 3000"
# (Output to a file, then grep: `| grep -q` would close the pipe early.)
"$PSSST" bench --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/alice.key" --requests 1000 --size 512 \
  >"$WORK/bench-auth.txt"
grep -q "1000 ok, 0 failed" "$WORK/bench-auth.txt" || fail "authenticated bench: $(cat "$WORK/bench-auth.txt")"
"$PSSST" bench --server "$ADDR" --server-key "$SERVER_PUB" --requests 1000000 --duration 1 >"$WORK/bench-duration.txt"
grep -q " 0 failed" "$WORK/bench-duration.txt" || fail "bench --duration: $(cat "$WORK/bench-duration.txt")"
grep -Eq "over [0-9]\.[0-9]+ s" "$WORK/bench-duration.txt" || fail "bench --duration ran too long: $(cat "$WORK/bench-duration.txt")"
pass "bench: anonymous, authenticated, duration-bounded"

echo "--- error paths (one line, exit 1, no panic)"
expect_error "missing key file" "no-such.key: No such file" "$PSSST" pubkey "$WORK/no-such.key"
printf 'not a key\n' >"$WORK/bad.key"
expect_error "malformed key file" "expected 64 hex digits" "$PSSST" pubkey "$WORK/bad.key"
printf '%063d\n' 0 >"$WORK/short.key"
expect_error "63-digit key file" "expected 64 hex digits" "$PSSST" pubkey "$WORK/short.key"
: >"$WORK/empty.key"
expect_error "empty key file" "empty" "$PSSST" pubkey "$WORK/empty.key"
expect_error "key file is a directory" "key file $WORK" "$PSSST" pubkey "$WORK"
expect_error "keygen into a missing directory" "No such file" "$PSSST" keygen "$WORK/nodir/x.key"
expect_error "serve with a missing key" "key file" "$PSSST" serve --key "$WORK/nope.key"
expect_error "serve on a bad address" "bad listen address" "$PSSST" serve --key "$WORK/server.key" --listen nonsense
expect_error "serve on a used port" "cannot listen on $ADDR" "$PSSST" serve --key "$WORK/server.key" --listen "$ADDR" --workers 1
expect_error "send to a bad address" "bad server address" \
  "$PSSST" send --server 127.0.0.1 --server-key "$SERVER_PUB" hi
expect_error "send to an out-of-range port" "bad server address" \
  "$PSSST" send --server 127.0.0.1:99999 --server-key "$SERVER_PUB" hi
expect_error "send with a malformed server key" "--server-key: expected 64 hex digits" \
  "$PSSST" send --server "$ADDR" --server-key abcd hi
expect_error "send with a low-order server key" "--server-key: low-order" \
  "$PSSST" send --server "$ADDR" --server-key "$(printf '%064d' 0)" hi
expect_error "send with a malformed client key file" "bad.key" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/bad.key" hi
head -c 70000 /dev/zero >"$WORK/huge"
expect_error "oversize message" "message too large" \
  sh -c "exec '$PSSST' send --server '$ADDR' --server-key '$SERVER_PUB' <'$WORK/huge'"
expect_error "bench with an oversize message" "--size 70000" \
  "$PSSST" bench --server "$ADDR" --server-key "$SERVER_PUB" --size 70000
expect_error "send with the wrong server key times out" "no reply after 2 attempts" \
  "$PSSST" send --server "$ADDR" --server-key "$(cat "$WORK/alice.pub")" --timeout-ms 100 --retries 1 hi
stop_server
expect_error "send to a closed port times out" "no reply" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --timeout-ms 100 --retries 1 hi
grep -q "decrypt_failed=2" "$SERVER_OUT" || fail "wrong-key requests not counted: $(cat "$SERVER_OUT")"
pass "serve stopped on SIGTERM: $(tail -n1 "$SERVER_OUT")"

echo "--- closed service"
cat >"$WORK/authorized" <<EOF
# alice
$(cat "$WORK/alice.pub")
EOF
start_server --key "$WORK/server.key" --authorized-keys "$WORK/authorized"
[ "$("$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/alice.key" in)" = in ] \
  || fail "closed service refused alice"
expect_error "closed service refuses anonymous" "no reply" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --timeout-ms 100 --retries 1 in
expect_error "closed service refuses an unknown key" "no reply" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/mallory.key" --timeout-ms 100 --retries 1 in
stop_server
grep -q "unauthorized=4" "$SERVER_OUT" || fail "closed service counters: $(cat "$SERVER_OUT")"
printf 'zz\n' >"$WORK/bad-authorized"
expect_error "authorized keys file with a bad line" "line 1: expected 64 hex digits" \
  "$PSSST" serve --key "$WORK/server.key" --authorized-keys "$WORK/bad-authorized"
pass "closed service: $(tail -n1 "$SERVER_OUT")"

echo "--- serve --exec"
# Output: the first 5 letters upper-cased, then the client key's first 8
# digits (or "anon"): never longer than these anonymous requests but "x".
start_server --key "$WORK/server.key" --exec 'tr a-z A-Z | head -c 5; printf "/%s" "${PSSST_CLIENT_KEY:-anon}" | head -c 9'
[ "$("$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" "shout this please")" = "SHOUT/anon" ] \
  || fail "exec reply (anonymous)"
alice_pub="$(cat "$WORK/alice.pub")"
[ "$("$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --key "$WORK/alice.key" "hello")" = "HELLO/${alice_pub:0:8}" ] \
  || fail "exec reply (authenticated) should carry PSSST_CLIENT_KEY"
expect_error "exec reply larger than an anonymous request is refused" "no reply" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --timeout-ms 100 --retries 1 "x"
stop_server
grep -q "amplification=2" "$SERVER_OUT" || fail "amplification not counted: $(cat "$SERVER_OUT")"
start_server --key "$WORK/server.key" --exec 'sleep 5' --exec-timeout 0.2
expect_error "exec timeout gives no reply" "no reply" \
  "$PSSST" send --server "$ADDR" --server-key "$SERVER_PUB" --timeout-ms 400 --retries 0 "slow"
stop_server
grep -q "handler_timeout=1" "$SERVER_OUT" || fail "exec timeout not counted: $(cat "$SERVER_OUT")"
pass "exec: output, client key in the environment, anti-amplification, timeout"

echo "--- compat: two processes through FIFOs"
mkfifo "$WORK/a2b" "$WORK/b2a"
timeout 20 "$PSSST" compat <"$WORK/b2a" >"$WORK/a2b" 2>"$WORK/compat-a.err" &
compat_a=$!
timeout 20 "$PSSST" compat >"$WORK/b2a" <"$WORK/a2b" 2>"$WORK/compat-b.err" &
compat_b=$!
wait "$compat_a" || fail "compat A: $(cat "$WORK/compat-a.err")"
wait "$compat_b" || fail "compat B: $(cat "$WORK/compat-b.err")"
pass "compat: both sides printed DONE and exited 0"
status=0; printf 'SERVER_KEY:1234\n' | "$PSSST" compat >/dev/null 2>"$WORK/compat.err" || status=$?
[ "$status" = 1 ] && grep -q "expected 32 bytes" "$WORK/compat.err" || fail "compat bad line: $status"
pass "compat: bad line -> $(cat "$WORK/compat.err")"

echo "--- the README's CLI example, as written (on a free port instead of 7777)"
readme_cli="$(sed -n '/<!-- section: cli -->/,/<!-- \/section: cli -->/p' README.md \
  | awk '/^```sh$/ { inside = 1; next } /^```$/ { inside = 0 } inside')"
[ -n "$readme_cli" ] || fail "no \`\`\`sh block in the README's cli section"
grep -q 7777 <<<"$readme_cli" || fail "the README's CLI example no longer uses port 7777"
port="$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir "$WORK/readme-cli"
# The example starts `pssst serve ... &`: the EXIT trap stops it.
(cd "$WORK/readme-cli" && PATH="$(dirname "$PSSST"):$PATH" timeout 60 bash -euo pipefail -c \
  "trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT"$'\n'"${readme_cli//7777/$port}") \
  >"$WORK/readme-cli.out" 2>&1 || fail "the README's CLI example failed: $(cat "$WORK/readme-cli.out")"
# (`pssst send` prints the reply as it is, without a newline.)
grep -q '^hello' "$WORK/readme-cli.out" && grep -q '^hi' "$WORK/readme-cli.out" \
  && grep -q "20000 ok, 0 failed" "$WORK/readme-cli.out" \
  || fail "the README's CLI example printed: $(cat "$WORK/readme-cli.out")"
pass "the README's CLI example: keygen, pubkey, serve, send (anonymous, authenticated), bench"

echo "--- the README's gateway example, as written (free ports instead of 7777 and 8080)"
readme_gateway="$(sed -n '/<!-- section: gateway -->/,/<!-- \/section: gateway -->/p' README.md)"
mkdir "$WORK/readme-gateway"
awk '/^```python$/ { inside = 1; next } /^```$/ { inside = 0 } inside' <<<"$readme_gateway" \
  >"$WORK/readme-gateway/app.py"
gateway_sh="$(awk '/^```sh$/ { inside = 1; next } /^```$/ { inside = 0 } inside' <<<"$readme_gateway")"
[ -s "$WORK/readme-gateway/app.py" ] && [ -n "$gateway_sh" ] \
  || fail "the README's gateway section lacks its \`\`\`python or \`\`\`sh block"
grep -q 8080 "$WORK/readme-gateway/app.py" && grep -q 7777 <<<"$gateway_sh" \
  || fail "the README's gateway example no longer uses ports 7777 and 8080"
udp_port="$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
tcp_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
sed -i "s/8080/$tcp_port/" "$WORK/readme-gateway/app.py"
gateway_sh="${gateway_sh//7777/$udp_port}"
(cd "$WORK/readme-gateway" && PATH="$(dirname "$PSSST"):$PATH" timeout 60 bash -euo pipefail -c \
  "trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT"$'\n'"${gateway_sh//8080/$tcp_port}") \
  >"$WORK/readme-gateway.out" 2>&1 || fail "the README's gateway example failed: $(cat "$WORK/readme-gateway.out")"
bob="$("$PSSST" pubkey "$WORK/readme-gateway/bob.key")"
grep -q '^HELLO APP' "$WORK/readme-gateway.out" && grep -q "^${bob:0:8}: hi" "$WORK/readme-gateway.out" \
  || fail "the README's gateway example printed: $(cat "$WORK/readme-gateway.out")"
pass "the README's gateway example: a Python app behind serve --forward, anonymous and authenticated"

echo "--- demo"
timeout 60 "$PSSST" demo | tee "$WORK/demo.txt"
grep -q "^result: OK" "$WORK/demo.txt" || fail "demo did not verify"

echo "--- completions and the manual page"
for shell in bash zsh fish elvish powershell; do
  "$PSSST" completions "$shell" >"$WORK/completion.$shell"
  grep -q serve "$WORK/completion.$shell" || fail "completions $shell lack the serve command"
done
bash -n "$WORK/completion.bash" || fail "the bash completion script does not parse"
( source "$WORK/completion.bash" && complete -p pssst >/dev/null ) || fail "bash completion not registered"
expect_error "completions for an unknown shell" "invalid value" "$PSSST" completions tcsh
"$PSSST" man >"$WORK/pssst.1"
head -n 5 "$WORK/pssst.1" | grep -q '^\.TH pssst 1' || fail "man: no .TH header"
grep -q 'reuse' "$WORK/pssst.1" || grep -q 'serve' "$WORK/pssst.1" || fail "man: no commands listed"
pass "completions (5 shells) and man page"

echo "--- soak: valid clients during a junk flood"
PSSST_SOAK_SECS="${PSSST_SOAK_SECS:-10}" cargo test --release -p pssst-cli --test soak -- --ignored --nocapture

echo "50-udp-cli: all passed"
