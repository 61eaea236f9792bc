#!/usr/bin/env bash
# PSSST on the device (docs/embedded.md), in QEMU: for Cortex-M0 (microbit,
# 16 KiB RAM), Cortex-M4 (mps2-an386) and RISC-V (virt), a Rust firmware
# checks every vector of tests/vectors and a client-auth round trip (the M4
# with its opt-in assembly X25519, feature cortex-m4-asm), and on RISC-V
# X25519 takes the same instructions for any input (constant-time); libpssst.a
# (devices/pssst-device) is built for the three targets and a C firmware
# linked with it does the same on each core; then a client on the M4 talks to
# a real `pssst serve` through the serial port and tests/device/relay.py,
# anonymous and client-authenticated. Semihosting exit status decides (the C
# firmware prints with SYS_WRITE0, which QEMU sends to stderr). Cargo runs in
# devices/ so that devices/.cargo/config.toml applies. Installs what it needs;
# fails, never skips.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf)
WORK="$(mktemp -d)"
SERVER_PID=""
CLI_BUILD_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  [ -n "$CLI_BUILD_PID" ] && kill "$CLI_BUILD_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "--- toolchains: rustup targets, QEMU, gcc-arm-none-eabi, gcc-riscv64-unknown-elf"
rustup target add "${TARGETS[@]}"
TOOLS=(qemu-system-arm qemu-system-riscv32 arm-none-eabi-gcc riscv64-unknown-elf-gcc python3)
for tool in "${TOOLS[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    apt-get update
    apt-get install -y qemu-system-arm qemu-system-misc gcc-arm-none-eabi gcc-riscv64-unknown-elf
    break
  fi
done
for tool in "${TOOLS[@]}"; do
  command -v "$tool" >/dev/null || fail "$tool is missing and could not be installed"
done

# The host's pssst (for the serve test at the end) builds meanwhile: the
# device builds (one codegen unit, fat LTO) leave a core idle most of the
# time. Cargo locks a target directory per build, so the device workspace
# builds into a directory of its own; it shares nothing with the host build.
echo "--- cargo build --release -p pssst-cli, in the background"
cargo build --release -p pssst-cli >"$WORK/cli-build.log" 2>&1 &
CLI_BUILD_PID=$!
DEVICE_TARGET_DIR="$CARGO_TARGET_DIR/devices"
# The device workspace, with its own build configuration.
device_cargo() { (cd devices && CARGO_TARGET_DIR="$DEVICE_TARGET_DIR" cargo "$@"); }
# QEMU for each board; the firmware's semihosting exit is QEMU's status.
declare -A MACHINE=(
  [microbit]="qemu-system-arm -M microbit"
  [mps2-an386]="qemu-system-arm -M mps2-an386"
  [riscv-virt]="qemu-system-riscv32 -M virt -bios none"
)
declare -A TARGET=(
  [microbit]=thumbv6m-none-eabi
  [mps2-an386]=thumbv7em-none-eabihf
  [riscv-virt]=riscv32imc-unknown-none-elf
)
# Each board's firmware features: the M4 takes the opt-in assembly X25519,
# the others keep x25519-dalek, so both backends meet every vector.
declare -A FEATURES=(
  [microbit]="pssst-firmware/microbit,pssst-firmware/server"
  [mps2-an386]="pssst-firmware/mps2-an386,pssst-firmware/server,pssst-firmware/cortex-m4-asm"
  [riscv-virt]="pssst-firmware/riscv-virt,pssst-firmware/server"
)
# What each board runs besides `vectors` (and the C firmware on libpssst.a).
declare -A BINS=([microbit]="--bin vectors" [mps2-an386]="--bin vectors --bin serve-client"
  [riscv-virt]="--bin vectors --bin constant-time")
run_qemu() {  # board elf [qemu options]: runs it, fails unless it exits 0
  local board="$1" elf="$2" status=0
  shift 2
  echo "--- $board: $elf $*"
  # shellcheck disable=SC2086 # MACHINE holds a command line
  timeout 300 ${MACHINE[$board]} -display none -monitor none -serial none "$@" \
    -semihosting-config enable=on,target=native -kernel "$elf" 2>&1 | tee "$WORK/out" || status=$?
  [ "$status" = 0 ] || fail "$board: $elf exited $status"
  grep -q "^0 failures" "$WORK/out" || fail "$board: $elf did not report 0 failures"
}

echo "--- devices workspace: format, lints (Arm with every firmware, RISC-V, a client-only library)"
device_cargo fmt --all -- --check
for board in mps2-an386 riscv-virt; do
  device_cargo clippy --release --target "${TARGET[$board]}" -p pssst-firmware \
    -p pssst-device --features "${FEATURES[$board]}" --bins --lib -- -D warnings
done
device_cargo clippy --release --target thumbv6m-none-eabi -p pssst-device \
  --no-default-features --features client -- -D warnings

echo "--- Rust firmware: every vector and a client-auth round trip, on each core"
for board in microbit mps2-an386 riscv-virt; do
  # shellcheck disable=SC2086 # BINS holds options
  device_cargo build --release --target "${TARGET[$board]}" -p pssst-firmware \
    -p pssst-device --features "${FEATURES[$board]}" ${BINS[$board]} --lib
  run_qemu "$board" "$DEVICE_TARGET_DIR/${TARGET[$board]}/release/vectors"
done
# The RISC-V build's compiler tuning may turn selects into branches: X25519
# must still take as many instructions for any scalar and point.
run_qemu riscv-virt "$DEVICE_TARGET_DIR/riscv32imc-unknown-none-elf/release/constant-time" \
  -icount shift=0

echo "--- C firmware: libpssst.a (built above for each target), Debian's bare-metal GCCs"
for target in "${TARGETS[@]}"; do
  [ -s "$DEVICE_TARGET_DIR/$target/release/libpssst.a" ] || fail "no libpssst.a for $target"
done
python3 tests/c/vectors_to_c.py > "$WORK/vectors.h"
declare -A CC=(
  [microbit]="arm-none-eabi-gcc -mcpu=cortex-m0 -mthumb"
  [mps2-an386]="arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
  [riscv-virt]="riscv64-unknown-elf-gcc -march=rv32imc_zicsr -mabi=ilp32 -mcmodel=medany"
)
for board in microbit mps2-an386 riscv-virt; do
  mkdir -p "$WORK/$board"
  cp "devices/memory/$board.x" "$WORK/$board/memory.x"
  # shellcheck disable=SC2086 # CC holds a command line
  ${CC[$board]} -Os -std=c11 -Wall -Wextra -Werror -ffreestanding \
    -nostdlib -ffunction-sections -fdata-sections -Iinclude -Idevices/c -I"$WORK" \
    -L"$WORK/$board" -T devices/c/sections.ld -Wl,--gc-sections -Wl,--no-warn-execstack \
    -o "$WORK/$board/vectors-c.elf" devices/c/startup.c devices/c/vectors.c \
    "$DEVICE_TARGET_DIR/${TARGET[$board]}/release/libpssst.a" -lgcc
  run_qemu "$board" "$WORK/$board/vectors-c.elf"
done

echo "--- the M4 as a client of a real pssst serve (serial port, relay, UDP)"
wait "$CLI_BUILD_PID" || { cat "$WORK/cli-build.log" >&2; fail "cargo build -p pssst-cli failed"; }
CLI_BUILD_PID=""
PSSST="$CARGO_TARGET_DIR/release/pssst"
"$PSSST" keygen "$WORK/server.key" >/dev/null
# The reply names the client's key (or "anonymous") and repeats 20 bytes:
# the firmware checks both. Shorter than the request, as serve requires.
"$PSSST" serve --key "$WORK/server.key" --listen 127.0.0.1:0 --workers 1 \
  --exec 'printf "%s:" "${PSSST_CLIENT_KEY:-anonymous}"; head -c 20' \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 200); do
  grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "serve died: $(cat "$WORK/serve.err")"
  sleep 0.05
done
line="$(head -n1 "$WORK/serve.out")"
[[ "$line" == *"listening on"* ]] || fail "serve did not start: $line"
ADDR="$(sed -E 's/.*listening on ([^ ]+).*/\1/' <<<"$line")"
SERVER_PUB="$(awk '{print $NF}' <<<"$line")"
status=0
timeout 300 python3 tests/device/relay.py --server "$ADDR" --server-key "$SERVER_PUB" -- \
  qemu-system-arm -M mps2-an386 -display none -monitor none \
  -semihosting-config enable=on,target=native \
  -kernel "$DEVICE_TARGET_DIR/thumbv7em-none-eabihf/release/serve-client" | tee "$WORK/relay.out" ||
  status=$?
[ "$status" = 0 ] || fail "serve-client exited $status"
grep -q "^ok anonymous: reply \"anonymous:" "$WORK/relay.out" || fail "no anonymous reply"
grep -q "^ok client-authenticated: reply \"[0-9a-f]\{64\}:" "$WORK/relay.out" ||
  fail "no client-authenticated reply"
echo "ok: PSSST on Cortex-M0, Cortex-M4 and RISC-V (Rust and C), and against pssst serve"
