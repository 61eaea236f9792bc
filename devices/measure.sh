#!/usr/bin/env bash
# What PSSST costs on each core (a measurement, not a test: nothing here is
# asserted). For Cortex-M0 (QEMU microbit), Cortex-M4 (mps2-an386) and RISC-V
# (virt), prints as Markdown:
#   - flash and RAM of the client-only firmware (devices/firmware, bin
#     client-only, profile `size`: a client-authenticated client packing one
#     request and unpacking its reply; devices/.cargo/config.toml gives it
#     sha2's compact SHA-256 and, on RISC-V, LLVM's SiFive E76 tuning), RAM
#     including its peak stack;
#   - instructions (QEMU -icount shift=0, checked against a calibration loop)
#     and peak stack (stack painting) per operation, from bin `measure`;
#   - Monocypher's X25519 (the C inside the crate monocypher-sys, fetched with
#     cargo), compiled into the same firmware at -O3 by the target's GCC and
#     measured the same way, with the ratio; on the Cortex-M4 also the opt-in
#     assembly X25519 (feature cortex-m4-asm, the crate salty).
# Usage: bash devices/measure.sh   (needs what tests/legs/80-device.sh installs,
# plus gcc-riscv64-unknown-elf for Monocypher on RISC-V, installed here).
# MEASURE_BOARDS="riscv-virt" (a space-separated subset of microbit,
# mps2-an386, riscv-virt) measures only those cores, e.g. to compare a
# compiler option given through CARGO_TARGET_<TRIPLE>_RUSTFLAGS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The device workspace's own target directory, as in tests/legs/80-device.sh.
DEVICE_TARGET_DIR="$CARGO_TARGET_DIR/devices"
CACHE="${PSSST_CACHE:-$PWD/.cache}/monocypher"
# The device workspace, with its own build configuration.
device_cargo() { (cd devices && CARGO_TARGET_DIR="$DEVICE_TARGET_DIR" cargo "$@"); }

command -v riscv64-unknown-elf-gcc >/dev/null || apt-get install -y gcc-riscv64-unknown-elf >&2
export CC_riscv32imc_unknown_none_elf=riscv64-unknown-elf-gcc

# Monocypher's source, as the crate monocypher-sys ships it.
mkdir -p "$CACHE/src"
cat >"$CACHE/Cargo.toml" <<'EOF'
[package]
name = "fetch-monocypher"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
monocypher-sys = "4"
[workspace]
EOF
: >"$CACHE/src/lib.rs"
cargo fetch --manifest-path "$CACHE/Cargo.toml" >&2
CRATE_DIR="$(cargo metadata --manifest-path "$CACHE/Cargo.toml" --format-version 1 |
  python3 -c 'import json,sys,os; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="monocypher-sys"))')"
MONOCYPHER_SRC="$(dirname "$(find "$CRATE_DIR" -name monocypher.c | head -n1)")"
[ -f "$MONOCYPHER_SRC/monocypher.c" ] || { echo "no monocypher.c in $CRATE_DIR" >&2; exit 1; }
export MONOCYPHER_SRC
MONOCYPHER_VERSION="$(basename "$CRATE_DIR")"

declare -A TARGET=([microbit]=thumbv6m-none-eabi [mps2-an386]=thumbv7em-none-eabihf
  [riscv-virt]=riscv32imc-unknown-none-elf)
declare -A MACHINE=([microbit]="qemu-system-arm -M microbit" [mps2-an386]="qemu-system-arm -M mps2-an386"
  [riscv-virt]="qemu-system-riscv32 -M virt -bios none")
declare -A CORE=([microbit]="Cortex-M0 (microbit, 16 KiB RAM)" [mps2-an386]="Cortex-M4 (mps2-an386)"
  [riscv-virt]="RISC-V rv32imc (virt)")

run() {  # board elf
  # shellcheck disable=SC2086 # MACHINE holds a command line
  timeout 600 ${MACHINE[$1]} -display none -monitor none -serial none -icount shift=0 \
    -semihosting-config enable=on,target=native -kernel "$2"
}

# Flash (code, read-only data, initial values of .data) and static RAM of an ELF.
sizes() {
  python3 - "$1" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF" and data[4] == 1, "32-bit ELF expected"
shoff, = struct.unpack_from("<I", data, 0x20)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2e)
names_at = struct.unpack_from("<IIIIII", data, shoff + shstrndx * shentsize)[4]
flash = ram = 0
for i in range(shnum):
    name_at, kind, flags, _, _, size = struct.unpack_from("<IIIIII", data, shoff + i * shentsize)
    name = data[names_at + name_at:data.index(b"\0", names_at + name_at)]
    # riscv-rt reserves all free RAM as .stack: the painted peak counts instead.
    if not flags & 2 or name in (b".stack", b".heap"):   # SHF_ALLOC
        continue
    writable, nobits = flags & 1, kind == 8
    if writable:
        ram += size
    if not nobits:
        flash += size      # .data is stored in flash too
print(flash, ram)
EOF
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Monocypher: $MONOCYPHER_VERSION; QEMU: $(qemu-system-arm --version | head -n1)"
echo
echo "| core | client-only flash | client-only RAM (static + peak stack) | operation | instructions | peak stack |"
echo "|---|--:|--:|---|--:|--:|"
for board in ${MEASURE_BOARDS:-microbit mps2-an386 riscv-virt}; do
  target="${TARGET[$board]:?unknown board $board}"
  device_cargo build -q --profile size --target "$target" -p pssst-firmware \
    --features "$board" --bin client-only >&2
  elf="$DEVICE_TARGET_DIR/$target/size/client-only"
  read -r flash ram < <(sizes "$elf")
  stack="$(run "$board" "$elf" | sed -n 's/^peak stack //p')"
  [ -n "$stack" ] || { echo "client-only failed on $board" >&2; exit 1; }
  device_cargo build -q --release --target "$target" -p pssst-firmware \
    --features "$board,monocypher" --bin measure >&2
  out="$(run "$board" "$DEVICE_TARGET_DIR/$target/release/measure")"
  grep -q "^0 failures" <<<"$out" || { echo "measure failed on $board: $out" >&2; exit 1; }
  first=1
  while read -r _ name instructions bytes; do
    if [ "$first" = 1 ]; then
      printf '| %s | %s KiB | %d B + %d B = %s KiB |' "${CORE[$board]}" \
        "$(div "$flash" 1024)" "$ram" "$stack" \
        "$(div $((ram + stack)) 1024)"
      first=0
    else
      printf '| | | |'
    fi
    printf ' %s | %d | %d B |\n' "$name" "$instructions" "$bytes"
  done < <(grep '^measure ' <<<"$out")
  ours="$(awk '$2=="x25519"{print $3}' <<<"$out")"
  theirs="$(awk '$2=="monocypher_x25519"{print $3}' <<<"$out")"
  printf '| | | | **X25519 instructions, ours / Monocypher** | **%s** | |\n' "$(div "$ours" "$theirs")"
  if [ "$board" = mps2-an386 ]; then
    device_cargo build -q --release --target "$target" -p pssst-firmware \
      --features "$board,monocypher,cortex-m4-asm" --bin measure >&2
    out="$(run "$board" "$DEVICE_TARGET_DIR/$target/release/measure")"
    grep -q "^0 failures" <<<"$out" || { echo "measure (cortex-m4-asm) failed: $out" >&2; exit 1; }
    asm="$(awk '$2=="x25519"{print $3}' <<<"$out")"
    printf '| | | | x25519, feature cortex-m4-asm (salty) | %d | %d B |\n' "$asm" \
      "$(awk '$2=="x25519"{print $4}' <<<"$out")"
    printf '| | | | **X25519 instructions, cortex-m4-asm / Monocypher** | **%s** | |\n' \
      "$(div "$asm" "$theirs")"
  fi
done
