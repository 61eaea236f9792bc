#!/usr/bin/env python3
"""Instructions executed per function when a firmware runs in QEMU.

Where an X25519 spends its instructions (docs/embedded.md, "Where RISC-V's
instructions go"): QEMU logs each translated block's instructions and each
execution of a block (`-d in_asm,exec,nochain`); this script streams that log,
maps blocks to the ELF's symbols and prints, per function, the instructions
executed there (not in its callees), its entries and instructions per entry.
Run without -icount: with it QEMU retranslates blocks to other lengths, which
this simple count cannot tell apart. A measurement, not a test.

    python3 devices/profile.py ELF [--top N] -- qemu-system-riscv32 -M virt -bios none
"""

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile

BLOCK_EXECUTED = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
INSTRUCTION = re.compile(r"^0x([0-9a-f]+):")


def functions(elf):
    """(start, size, name) of the ELF's code symbols, by start address."""
    with open(elf, "rb") as f:
        machine = f.read(20)[18:20]  # e_machine: 0xf3 RISC-V, else Arm
    nm = "riscv64-unknown-elf-nm" if machine == b"\xf3\x00" else "arm-none-eabi-nm"
    out = subprocess.run([nm, "-S", "-C", elf], check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return sorted(syms)


def profile(elf, qemu):
    """Instructions executed per block start, from QEMU's log through a FIFO."""
    block_length, executions = {}, collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "log")
        os.mkfifo(fifo)
        cmd = qemu + ["-display", "none", "-monitor", "none", "-serial", "none",
                      "-semihosting-config", "enable=on,target=native",
                      "-d", "in_asm,exec,nochain", "-D", fifo, "-kernel", elf]
        run = subprocess.Popen(cmd, stdout=sys.stderr)
        block = None
        with open(fifo) as log:
            for line in log:
                executed = BLOCK_EXECUTED.match(line)
                if executed:
                    executions[int(executed.group(1), 16)] += 1
                elif line.startswith("IN:"):
                    block = None
                else:
                    insn = INSTRUCTION.match(line)
                    if insn:
                        if block is None:
                            block = int(insn.group(1), 16)
                            block_length[block] = 0
                        block_length[block] += 1
        if run.wait(timeout=600) != 0:
            sys.exit(f"{cmd[0]} exited {run.returncode}")
    return block_length, executions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf")
    parser.add_argument("--top", type=int, default=20)
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give the QEMU command line after --")
    split = argv.index("--")
    args, qemu = parser.parse_args(argv[:split]), argv[split + 1 :]
    syms = functions(args.elf)
    starts = [start for start, _, _ in syms]
    block_length, executions = profile(args.elf, qemu)
    instructions, entries = collections.Counter(), collections.Counter()
    for pc, times in executions.items():
        i = bisect.bisect_right(starts, pc) - 1
        start, size, name = syms[i] if i >= 0 else (0, 0, "?")
        if not start <= pc < start + size:
            name = f"0x{pc:08x}"
        instructions[name] += times * block_length.get(pc, 0)
        if pc == start:
            entries[name] += times
    print(f"{sum(instructions.values())} instructions in all")
    print("| instructions | entries | per entry | function |")
    print("|--:|--:|--:|---|")
    for name, count in instructions.most_common(args.top):
        per = count // entries[name] if entries[name] else count
        print(f"| {count} | {entries[name]} | {per} | `{name[:90]}` |")


if __name__ == "__main__":
    main()
