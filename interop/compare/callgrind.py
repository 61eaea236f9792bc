"""Instructions per operation of the pssst-core harness, counted with
valgrind's callgrind (independent of the machine's load)."""

import os
import tempfile

from config import BACKENDS, OPS, RAW, harness
from shell import need, run


def callgrind_instructions(backend, op, iters):
    """Instructions per operation: callgrind counts only inside the
    harness's never-inlined `measured` wrapper (the operation itself, none of
    the setup), over iters + 1 calls (one warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        out_file = os.path.join(tmp, "cg.out")
        run(["valgrind", "--tool=callgrind", "--toggle-collect=pssst_compare::measured*",
             "--callgrind-out-file=" + out_file, harness(backend),
             "--callgrind", op, "--iters", str(iters)], capture=True, timeout=1800)
        with open(out_file) as f:
            summary = [l for l in f if l.startswith(("summary:", "totals:"))]
    return int(summary[-1].split()[1]) / (iters + 1)


def count_all():
    """{backend: {op: instructions per operation}} for every backend and op."""
    need("valgrind")
    return {backend: {op: callgrind_instructions(backend, op, 100) for op in RAW + OPS}
            for backend in BACKENDS}
