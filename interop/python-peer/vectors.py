#!/usr/bin/env python3
"""Cross-check the test vectors (tests/vectors) through a Python ``pssst`` package.

Known-answer cases: PSSSTServer(server_private).unpack_request(request_packet)
gives request_plaintext (and client_public for auth cases, None otherwise) and
its reply handler re-creates reply_packet byte for byte. With
--inject-ephemeral (pypssst, whose client draws its ephemeral key from
cryptography's X25519PrivateKey.generate) the client is also fed
ephemeral_secret and must re-create request_packet byte for byte and unpack
reply_packet; without it only the server side is checked, and each line says
so.

Reject cases: unpack_request must raise. By default any exception counts as a
rejection but its class is reported, with those that escape
``except PSSSTException`` listed (pypssst leaks several); with --strict only a
PSSSTException counts. Each outcome is compared with the vector file's
"observed" record for --observed-as (default pypssst) when one exists.

Usage: vectors.py [--inject-ephemeral] [--strict] [--observed-as NAME] [VECTORS_DIR]
(VECTORS_DIR defaults to the repository's tests/vectors.)
"""

import argparse
import json
import os
import sys

import pssst

DEFAULT_VECTORS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   os.pardir, os.pardir, "tests", "vectors")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def raw(key):
    if key is None:
        return None
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    return key.public_bytes(encoding=Encoding.Raw, format=PublicFormat.Raw)


def qualname(exc):
    cls = type(exc)
    return "%s.%s" % (cls.__module__, cls.__qualname__)


class FixedEphemeral:
    """Stands in for pypssst's X25519PrivateKey while one request is packed."""

    def __init__(self, real, secret):
        self._real = real
        self._secret = secret
        self.used = 0

    def generate(self):
        self.used += 1
        return self._real.from_private_bytes(self._secret)

    def __getattr__(self, name):
        return getattr(self._real, name)


def check_client_side(case):
    """Re-create the request with the recorded ephemeral key (pypssst's hook)."""
    impl = sys.modules.get("pssst.pssst")
    if impl is None or not hasattr(impl, "X25519PrivateKey"):
        raise AssertionError("no pssst.pssst.X25519PrivateKey to inject the ephemeral key into")
    client_private = bytes.fromhex(case["client_private"]) if case["client_auth"] else None
    client = pssst.PSSSTClient(bytes.fromhex(case["server_public"]), client_private)
    real = impl.X25519PrivateKey
    fixed = FixedEphemeral(real, bytes.fromhex(case["ephemeral_secret"]))
    impl.X25519PrivateKey = fixed
    try:
        packet, handler = client.pack_request(bytes.fromhex(case["request_plaintext"]))
    finally:
        impl.X25519PrivateKey = real
    if fixed.used != 1:
        raise AssertionError("pack_request drew %d ephemeral keys, expected 1" % fixed.used)
    if bytes(packet) != bytes.fromhex(case["request_packet"]):
        raise AssertionError("re-created request %s != request_packet" % bytes(packet).hex())
    got = bytes(handler(bytes.fromhex(case["reply_packet"])))
    if got != bytes.fromhex(case["reply_plaintext"]):
        raise AssertionError("client unpacked reply %s != reply_plaintext" % got.hex())
    return "request, reply and plaintexts byte for byte"


def check_kat(case, inject_ephemeral):
    if case["suite"] != 1:
        raise AssertionError("suite %r is not suite 1" % case["suite"])
    server = pssst.PSSSTServer(bytes.fromhex(case["server_private"]))
    data, client_key, handler = server.unpack_request(bytes.fromhex(case["request_packet"]))
    if bytes(data) != bytes.fromhex(case["request_plaintext"]):
        raise AssertionError("unpacked plaintext %s != request_plaintext" % bytes(data).hex())
    client_key = raw(client_key)
    if case["client_auth"]:
        if client_key != bytes.fromhex(case["client_public"]):
            raise AssertionError("authenticated client key %s != client_public"
                                 % (client_key.hex() if client_key else None))
    elif client_key is not None:
        raise AssertionError("anonymous request unpacked with client key %s" % client_key.hex())
    reply = bytes(handler(bytes.fromhex(case["reply_plaintext"])))
    if reply != bytes.fromhex(case["reply_packet"]):
        raise AssertionError("re-created reply %s != reply_packet" % reply.hex())
    if not inject_ephemeral:
        return "server side: plaintext, client key, reply byte for byte"
    return check_client_side(case)


def main():
    # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inject-ephemeral", action="store_true",
                        help="also re-create each request by injecting ephemeral_secret in place "
                             "of X25519PrivateKey.generate (pypssst)")
    parser.add_argument("--strict", action="store_true",
                        help="only a PSSSTException counts as a rejection")
    parser.add_argument("--observed-as", default="pypssst",
                        help="compare outcomes with this 'observed' record (default: pypssst; "
                             "'none' to skip)")
    parser.add_argument("--name", default=None, help="name to print for this package")
    parser.add_argument("vectors_dir", nargs="?", default=DEFAULT_VECTORS_DIR,
                        help="directory of suite1-kat.json and suite1-reject.json "
                             "(default: the repository's tests/vectors)")
    args = parser.parse_args()

    name = args.name or "pssst %s (%s)" % (getattr(pssst, "__version__", "?"),
                                          os.path.dirname(pssst.__file__))
    kat = load(os.path.join(args.vectors_dir, "suite1-kat.json"))
    rejects = load(os.path.join(args.vectors_dir, "suite1-reject.json"))
    failures = 0

    print("%s: %d known-answer cases" % (name, len(kat["cases"])))
    for case in kat["cases"]:
        try:
            what = check_kat(case, args.inject_ephemeral)
            print("  ok   %-24s %s" % (case["id"], what))
        except Exception as err:  # pylint: disable=broad-except
            failures += 1
            print("  FAIL %-24s %s: %s" % (case["id"], type(err).__name__, err))

    print("%s: %d reject cases" % (name, len(rejects["cases"])))
    pssst_errors, leaked, accepted, mismatched = [], [], [], []
    for case in rejects["cases"]:
        packet = bytes.fromhex(case["request_packet"])
        if len(packet) != case["packet_len"]:
            failures += 1
            print("  FAIL %-24s packet is %d bytes, packet_len says %d"
                  % (case["id"], len(packet), case["packet_len"]))
            continue
        server = pssst.PSSSTServer(bytes.fromhex(case["server_private"]))
        try:
            data, _, _ = server.unpack_request(packet)
        except pssst.PSSSTException as err:
            pssst_errors.append(case["id"])
            kind, outcome = "pssst", "rejected: %s" % qualname(err)
        except Exception as err:  # pylint: disable=broad-except
            leaked.append((case["id"], qualname(err)))
            kind = "leak"
            outcome = "rejected by a non-PSSST exception: %s: %s" % (qualname(err), err)
            if args.strict:
                failures += 1
                print("  FAIL %-24s %s" % (case["id"], outcome))
                continue
        else:
            failures += 1
            accepted.append(case["id"])
            print("  FAIL %-24s ACCEPTED (%d plaintext bytes); expected %s"
                  % (case["id"], len(data), case["expected_failure"]))
            continue
        note = ""
        observed = case.get("observed", {}).get(args.observed_as)
        if args.observed_as != "none" and isinstance(observed, dict):
            recorded = "leak" if "non-PSSST" in observed.get("result", "") else "pssst"
            detail = observed.get("detail", "")
            recorded_class = detail.split(":")[0].strip()
            actual_class = outcome.split(": ", 1)[1].split(":")[0].strip()
            if recorded != kind or not actual_class.endswith(recorded_class.split(".")[-1]):
                mismatched.append(case["id"])
                note = "  [vector file says: %s: %s]" % (observed.get("result"), detail)
        print("  ok   %-24s %s%s" % (case["id"], outcome, note))

    if mismatched:
        failures += len(mismatched)
        print("FAIL: %d reject case(s) where the outcome differs from the vector file's "
              "'observed' record for %s: %s" % (len(mismatched), args.observed_as, mismatched))
    print("%s reject summary: %d PSSSTException, %d other exception%s, %d accepted"
          % (name, len(pssst_errors), len(leaked),
             (" (escape `except PSSSTException`): " + ", ".join(
                 "%s=%s" % (i, c.replace("builtins.", "")) for i, c in leaked)) if leaked else "",
             len(accepted)))
    if failures:
        print("%s vectors: FAIL (%d problem(s))" % (name, failures))
        return 1
    print("%s vectors: PASS (%d known-answer, %d rejected)"
          % (name, len(kat["cases"]), len(rejects["cases"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
