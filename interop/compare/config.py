"""What the comparison compares and where it keeps things: paths, backends,
implementations, operations and their labels (constants only)."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE = os.path.join(ROOT, ".cache", "bench")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
OUT = os.path.join(TARGET, "bench")
BIN = os.path.join(OUT, "bin")

BACKENDS = ["x25519-dalek", "aws-lc"]
OPS = ["pack_anon", "unpack_anon", "pack_auth", "unpack_auth", "reply_pack", "reply_unpack"]
RAW = ["x25519_base", "x25519_var"]
OP_LABEL = {
    "pack_anon": "client pack, anonymous",
    "unpack_anon": "server unpack, anonymous",
    "pack_auth": "client pack, client-auth",
    "unpack_auth": "server unpack, client-auth",
    "reply_pack": "server reply pack",
    "reply_unpack": "client reply unpack",
    "x25519_base": "raw X25519 fixed-base",
    "x25519_var": "raw X25519 variable-base",
}
# The X25519 multiplications each operation must do (fixed-base, variable).
MULTS = {
    "pack_anon": (1, 1),
    "unpack_anon": (0, 1),
    "pack_auth": (0, 2),
    "unpack_auth": (0, 2),
}
IMPLS = ["pssst-core/x25519-dalek", "pssst-core/aws-lc", "pssst-py", "pypssst 0.2.1",
         "gopssst v0.2.2"]
REFERENCES = ["pypssst 0.2.1", "gopssst v0.2.2"]


def harness(backend):
    """The pssst-core leg's binary for one X25519 backend."""
    return os.path.join(BIN, "pssst-compare-" + backend)


def cli(backend):
    """The `pssst` CLI built with one X25519 backend (for the UDP leg)."""
    return os.path.join(BIN, "pssst-" + backend)


GO_TEST = os.path.join(BIN, "gopssst-compare.test")


def venv_python(name):
    return os.path.join(CACHE, name, "bin", "python")
