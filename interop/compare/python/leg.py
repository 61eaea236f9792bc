#!/usr/bin/env python3
"""The Python legs of the side-by-side benchmark (see interop/compare/README.md).

Run by the interpreter of a venv holding either pypssst 0.2.1 or pssst-rs's
drop-in package (same import name ``pssst``): which one is timed depends only
on the interpreter. Written against pypssst's public API (PSSSTClient,
PSSSTServer, generate_key_pair, reply handlers are callables).

Prints one JSON object per line: {"impl", "backend", "op", "ops_per_s",
"wall_ops_per_s", "n", "secs"}: ops_per_s per second of process CPU time
(robust to preemption on a loaded machine), wall_ops_per_s per second of
wall time, each the median of five timed sub-batches. With --raw it
also times the raw X25519 of the ``cryptography`` package (OpenSSL), the
primitive pypssst is built on.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import statistics
import sys
import time

import pssst

MESSAGE = b"\x42" * 64
BATCHES = 5
REPLY_BATCH = 800  # handlers made untimed per sub-batch


class Clock:
    """Process CPU time (robust to preemption) and wall time together."""
    # pylint: disable=too-few-public-methods
    __slots__ = ("cpu", "wall")

    def __init__(self, cpu=None, wall=None):
        self.cpu = time.process_time() if cpu is None else cpu
        self.wall = time.perf_counter() if wall is None else wall

    def __sub__(self, start):
        return Clock(self.cpu - start.cpu, self.wall - start.wall)


clock = Clock


def impl_name():
    if importlib.util.find_spec("pssst._pssst") is not None:
        return "pssst-py"
    return "pypssst " + importlib.metadata.version("pssst")


class Fixture:
    # pylint: disable=too-few-public-methods
    def __init__(self):
        server_private, server_public = pssst.generate_key_pair()
        client_private, _ = pssst.generate_key_pair()
        self.server = pssst.PSSSTServer(server_private)
        self.anon = pssst.PSSSTClient(server_public, None)
        self.auth = pssst.PSSSTClient(server_public, client_private)
        self.request_anon, _ = self.anon.pack_request(MESSAGE)
        self.request_auth, _ = self.auth.pack_request(MESSAGE)
        for request in (self.request_anon, self.request_auth):
            data, _, handler = self.server.unpack_request(request)
            assert bytes(data) == MESSAGE
        self.raw = None

    def timed(self, op, n):
        """Clock difference for n runs of op (setup excluded)."""
        # pylint: disable=too-many-locals
        if op in ("pack_anon", "pack_auth"):
            pack = (self.anon if op == "pack_anon" else self.auth).pack_request
            start = clock()
            for _ in range(n):
                pack(MESSAGE)
            return clock() - start
        if op in ("unpack_anon", "unpack_auth"):
            request = self.request_anon if op == "unpack_anon" else self.request_auth
            unpack = self.server.unpack_request
            start = clock()
            for _ in range(n):
                unpack(request)
            return clock() - start
        if op == "reply_pack":
            handlers = [self.server.unpack_request(self.request_anon)[2] for _ in range(n)]
            start = clock()
            for handler in handlers:
                handler(MESSAGE)
            return clock() - start
        if op == "reply_unpack":
            pairs = []
            for _ in range(n):
                request, handler = self.anon.pack_request(MESSAGE)
                pairs.append((handler, self.server.unpack_request(request)[2](MESSAGE)))
            start = clock()
            for handler, reply in pairs:
                handler(reply)
            return clock() - start
        if op in ("x25519_base", "x25519_var"):
            # pylint: disable=import-outside-toplevel
            from cryptography.hazmat.primitives.asymmetric.x25519 import (
                X25519PrivateKey, X25519PublicKey)
            scalar = bytes([3]) * 32
            if op == "x25519_base":
                # Loading a raw private key computes its public key in
                # OpenSSL 3 (one fixed-base multiplication): time both.
                load = X25519PrivateKey.from_private_bytes
                start = clock()
                for _ in range(n):
                    load(scalar).public_key()
                return clock() - start
            key = X25519PrivateKey.from_private_bytes(scalar)
            point = X25519PublicKey.from_public_bytes(bytes([9]) + bytes(31))
            exchange = key.exchange
            start = clock()
            for _ in range(n):
                exchange(point)
            return clock() - start
        raise ValueError("unknown op %r" % op)

    def measure(self, op, budget):
        share = budget / BATCHES
        if op.startswith("reply_"):
            n = REPLY_BATCH
        else:
            n = 4
            while True:
                t = self.timed(op, n).cpu
                if t >= share / 10:
                    break
                n *= 2
            n = max(1, int(share / max(t, 1e-9) * n))
        rates, wall_rates, total = [], [], 0.0
        for _ in range(BATCHES):
            t = self.timed(op, n)
            total += t.cpu
            rates.append(n / t.cpu)
            wall_rates.append(n / t.wall)
        return statistics.median(rates), statistics.median(wall_rates), n * BATCHES, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ms", type=float, default=300)
    parser.add_argument("--raw", action="store_true",
                        help="also time cryptography's raw X25519")
    parser.add_argument("--ops", default="unpack_anon,pack_anon,unpack_auth,pack_auth,"
                        "reply_pack,reply_unpack")
    args = parser.parse_args()
    name = impl_name()
    ops = args.ops.split(",")
    if args.raw:
        ops = ["x25519_var", "x25519_base"] + ops
    fixture = Fixture()
    for op in ops:
        rate, wall_rate, n, secs = fixture.measure(op, args.ms / 1000)
        backend = "cryptography (OpenSSL)" if op.startswith("x25519") or name != "pssst-py" \
            else "pssst-core (aws-lc)"
        print(json.dumps({"impl": name, "backend": backend, "op": op,
                          "ops_per_s": round(rate, 1),
                          "wall_ops_per_s": round(wall_rate, 1), "n": n, "secs": round(secs, 6)}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
