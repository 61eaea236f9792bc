"""Times pypssst (PyPI pssst==0.2.1) and this package in one run.

Both packages are named ``pssst``, so pypssst is loaded under the name
``pypssst`` from its own install directory (it imports only relatively and
needs nothing but ``cryptography``, which this package needs too):

  python tests/python/bench_vs_pypssst.py --pypssst DIR

where DIR is pypssst's ``pssst`` package directory or the root of a venv
that has pssst==0.2.1 installed (default: $PSSST_CACHE/py-venv-pypssst, as
tests/legs/40-python.sh makes it). Run it with the python of a venv that
has this package installed.

For each operation (pack, unpack, reply pack, reply unpack; anonymous and
client-auth; 64-byte messages) it runs interleaved rounds (pypssst, ours,
pypssst, ours, ...), takes the median time per call over rounds, and prints
the ratio pypssst/ours (> 1: ours is faster).
"""

import argparse
import glob
import importlib.util
import os
import pathlib
import statistics
import sys
import time

import pssst as ours


def load_pypssst(path):
    path = pathlib.Path(path)
    if not (path / "__init__.py").exists():
        found = glob.glob(str(path / "lib" / "python3*" / "site-packages" / "pssst"))
        if not found:
            sys.exit("no pypssst package under {}".format(path))
        path = pathlib.Path(found[0])
    spec = importlib.util.spec_from_file_location(
        "pypssst", path / "__init__.py", submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["pypssst"] = module
    spec.loader.exec_module(module)
    if hasattr(module, "_pssst") or module.__version__ != "0.2.1":
        sys.exit("{} is not pypssst 0.2.1".format(path))
    return module


def workloads(mod, auth, message):
    """The four operations for one implementation, each a zero-argument
    callable doing `batch` calls on inputs prepared beforehand."""
    server_private, server_public = mod.generate_key_pair()
    client_private = mod.generate_key_pair()[0] if auth else None
    client = mod.PSSSTClient(server_public, client_private)
    server = mod.PSSSTServer(server_private)
    packet, _ = client.pack_request(message)

    def pack(n):
        for _ in range(n):
            client.pack_request(message)

    def unpack(n):
        for _ in range(n):
            server.unpack_request(packet)

    def reply_pack(n):
        handlers = [server.unpack_request(packet)[2] for _ in range(n)]
        start = time.perf_counter()
        for handler in handlers:
            handler(message)
        return time.perf_counter() - start

    def reply_unpack(n):
        pairs = []
        for _ in range(n):
            request, handler = client.pack_request(message)
            reply = server.unpack_request(request)[2](message)
            pairs.append((handler, reply))
        start = time.perf_counter()
        for handler, reply in pairs:
            handler(reply)
        return time.perf_counter() - start

    return {"pack": pack, "unpack": unpack,
            "reply pack": reply_pack, "reply unpack": reply_unpack}


def timed(fn, n):
    start = time.perf_counter()
    inner = fn(n)
    elapsed = time.perf_counter() - start
    return (inner if inner is not None else elapsed) / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cache = os.environ.get("PSSST_CACHE", str(pathlib.Path(__file__).resolve().parents[2] / ".cache"))
    parser.add_argument("--pypssst", default=os.path.join(cache, "py-venv-pypssst"))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200, help="calls per round (X25519 ops)")
    args = parser.parse_args()
    ref = load_pypssst(args.pypssst)
    message = bytes(range(64))

    print("pypssst {} from {}".format(ref.__version__, pathlib.Path(ref.__file__).parent))
    print("ours    {} from {}".format(ours.__version__, pathlib.Path(ours.__file__).parent))
    print("64-byte messages, {} interleaved rounds, median per call\n".format(args.rounds))
    print("{:<24}{:>14}{:>14}{:>10}".format("operation", "pypssst", "ours", "ratio"))
    results = []
    for auth in (False, True):
        ref_ops = workloads(ref, auth, message)
        our_ops = workloads(ours, auth, message)
        for name in ref_ops:
            # AES-only operations are ~100x cheaper: more calls per round.
            n = args.batch * (10 if name.startswith("reply") else 1)
            ref_ops[name](n // 10)  # warm up
            our_ops[name](n // 10)
            ref_t, our_t = [], []
            for _ in range(args.rounds):
                ref_t.append(timed(ref_ops[name], n))
                our_t.append(timed(our_ops[name], n))
            r, o = statistics.median(ref_t), statistics.median(our_t)
            label = "{} ({})".format(name, "auth" if auth else "anon")
            results.append((label, r, o))
            print("{:<24}{:>11.2f} us{:>11.2f} us{:>9.2f}x".format(label, r * 1e6, o * 1e6, r / o))
    return results


if __name__ == "__main__":
    main()
