#!/usr/bin/env python3
"""Interop peer for the Python API of PSSST, speaking the interop line protocol
on stdin/stdout (see interop/README.md).

    peer.py [--suite 1|0xff01] [--independent]

Written against pypssst's public API (PyPI ``pssst==0.2.1``: PSSSTClient,
PSSSTServer, generate_key_pair), the way existing pypssst code uses it. The
same script is both the "pypssst" peer (run in a venv holding pypssst) and the
"ours in Python" peer (run in a venv holding pssst-rs's drop-in package of the
same import name): which one it exercises depends only on the interpreter.
With --independent it runs on independent.py instead (tests/hostile/wire.py,
Python's `cryptography` alone). --suite 0xff01 makes its clients and servers
use suite 0xFF01 (AES-GCM-SIV) only; without it the calls are pypssst's.
"""

import argparse
import os
import sys

if "--independent" in sys.argv[1:]:
    import independent as pssst  # pylint: disable=import-error
else:
    import pssst

TAG = "python-peer (%s)" % getattr(pssst, "__file__", "pssst")


def fail(message):
    sys.stderr.write("%s: FAIL: %s\n" % (TAG, message))
    sys.stderr.flush()
    sys.exit(1)


def emit(tag, value=b""):
    sys.stdout.write("%s:%s\n" % (tag, bytes(value).hex()))
    sys.stdout.flush()


def raw(key, public=True):
    """Raw 32 key bytes from whatever a pssst call returned.

    pypssst hands out cryptography X25519 key objects; raw bytes are taken
    as they are.
    """
    if key is None:
        return None
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import (
        Encoding, NoEncryption, PrivateFormat, PublicFormat)
    if public:
        return key.public_bytes(encoding=Encoding.Raw, format=PublicFormat.Raw)
    return key.private_bytes(encoding=Encoding.Raw, format=PrivateFormat.Raw,
                             encryption_algorithm=NoEncryption())


class Peer:
    # pylint: disable=too-many-instance-attributes
    def __init__(self, suite=None):
        # suite None: pypssst's calls exactly; a CipherSuite: that suite only.
        self.suite_args = {} if suite is None else {"cipher_suite": suite}
        server_private, server_public = pssst.generate_key_pair()
        self.client_private, client_public = pssst.generate_key_pair()
        self.server = pssst.PSSSTServer(server_private, **self.suite_args)
        self.plaintext = os.urandom(64)
        self.peer_plain = None
        self.peer_client_key = None
        self.pending = {}      # REQUEST / REQUEST_AUTH waiting for PLAINTEXT / CLIENT_KEY
        self.handlers = {}     # REPLY / REPLY_AUTH -> client reply handler
        self.seen = set()
        self.served = 0
        self.verified = 0
        self.sent_done = False
        self.peer_done = False
        emit("SERVER_KEY", raw(server_public))
        emit("CLIENT_KEY", raw(client_public))
        emit("PLAINTEXT", self.plaintext)

    def finished(self):
        return self.sent_done and self.peer_done and self.served == 2

    def serve(self, tag, packet):
        try:
            data, client_key, handler = self.server.unpack_request(packet)
        except Exception as err:  # pylint: disable=broad-except
            fail("%s: server could not unpack the request: %s: %s"
                 % (tag, type(err).__name__, err))
        data = bytes(data)
        if data != self.peer_plain:
            fail("%s: plaintext %s differs from the other side's PLAINTEXT %s"
                 % (tag, data.hex(), self.peer_plain.hex()))
        client_key = raw(client_key)
        if tag == "REQUEST_AUTH":
            if client_key is None:
                fail("REQUEST_AUTH: no authenticated client key")
            if client_key != self.peer_client_key:
                fail("REQUEST_AUTH: authenticated client key %s differs from the "
                     "other side's CLIENT_KEY %s"
                     % (client_key.hex(), self.peer_client_key.hex()))
        elif client_key is not None:
            fail("REQUEST: anonymous request unpacked with client key %s" % client_key.hex())
        try:
            reply = handler(data[::-1])
        except Exception as err:  # pylint: disable=broad-except
            fail("%s: packing the reply: %s: %s" % (tag, type(err).__name__, err))
        emit("REPLY_AUTH" if tag == "REQUEST_AUTH" else "REPLY", reply)
        self.served += 1

    def process_pending(self):
        if self.peer_plain is None:
            return
        if "REQUEST" in self.pending:
            self.serve("REQUEST", self.pending.pop("REQUEST"))
        if "REQUEST_AUTH" in self.pending and self.peer_client_key is not None:
            self.serve("REQUEST_AUTH", self.pending.pop("REQUEST_AUTH"))

    def handle(self, line):
        tag, sep, hex_value = line.partition(":")
        if not sep:
            fail("malformed line %r" % line)
        try:
            value = bytes.fromhex(hex_value)
        except ValueError as err:
            fail("%s: bad hex: %s" % (tag, err))
        if tag in self.seen:
            fail("duplicate %s line" % tag)
        self.seen.add(tag)

        if tag == "SERVER_KEY":
            if len(value) != 32:
                fail("SERVER_KEY is %d bytes, want 32" % len(value))
            for request, reply, client_private in (
                    ("REQUEST", "REPLY", None),
                    ("REQUEST_AUTH", "REPLY_AUTH", self.client_private)):
                client = pssst.PSSSTClient(value, client_private, **self.suite_args)
                packet, handler = client.pack_request(self.plaintext)
                self.handlers[reply] = handler
                emit(request, packet)
        elif tag == "CLIENT_KEY":
            if len(value) != 32:
                fail("CLIENT_KEY is %d bytes, want 32" % len(value))
            self.peer_client_key = value
        elif tag == "PLAINTEXT":
            self.peer_plain = value
        elif tag in ("REQUEST", "REQUEST_AUTH"):
            self.pending[tag] = value
        elif tag in ("REPLY", "REPLY_AUTH"):
            handler = self.handlers.get(tag)
            if handler is None:
                fail("%s before this side sent its request" % tag)
            try:
                data = bytes(handler(value))
            except Exception as err:  # pylint: disable=broad-except
                fail("%s: client could not unpack the reply: %s: %s"
                     % (tag, type(err).__name__, err))
            if data != self.plaintext[::-1]:
                fail("%s: reply %s is not the reversed plaintext %s"
                     % (tag, data.hex(), self.plaintext[::-1].hex()))
            self.verified += 1
        elif tag == "DONE":
            if value:
                fail("DONE carries data %s" % value.hex())
            self.peer_done = True
        else:
            fail("unknown tag %r" % tag)

        self.process_pending()
        if self.verified == 2 and not self.sent_done:
            emit("DONE")
            self.sent_done = True


def main():
    parser = argparse.ArgumentParser(
        description="Speaks the interop line protocol on stdin/stdout.")
    parser.add_argument("--suite", type=lambda text: int(text, 0), default=None,
                        help="cipher suite id for clients and servers (default: pypssst's "
                             "calls, no suite named)")
    parser.add_argument("--independent", action="store_true",
                        help="run on independent.py (cryptography alone), not pssst")
    args = parser.parse_args()
    suite = None
    if args.suite is not None:
        try:
            suite = pssst.CipherSuite(args.suite)
        except ValueError:
            fail("cipher suite %#x is not known to %s" % (args.suite, TAG))
    peer = Peer(suite)
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if not line:
            continue
        peer.handle(line)
        if peer.finished():
            return 0
    fail("stdin closed before the exchange finished (served %d/2 requests, verified %d/2 "
         "replies, sent DONE %s, got DONE %s)"
         % (peer.served, peer.verified, peer.sent_done, peer.peer_done))
    return 1


if __name__ == "__main__":
    sys.exit(main())
