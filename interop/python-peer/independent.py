"""The part of pypssst's API that peer.py uses, on tests/hostile/wire.py:
PSSST built from Python's `cryptography` alone (X25519, SHA-256,
AES-GCM / AES-GCM-SIV), sharing no code with pssst-rs, gopssst or pypssst.

`peer.py --independent` runs on this module instead of `pssst`, so the same
line-protocol peer checks pssst-rs against an implementation of its own
making, in suite 1 and in suite 0xFF01 (which no reference implements).
Keys are raw 32-byte strings.
"""

import enum
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "hostile"))
import wire  # noqa: E402  pylint: disable=wrong-import-position



class CipherSuite(enum.Enum):
    """The suites wire.py implements."""
    X25519_AESGCM128 = wire.SUITE1
    X25519_AESGCMSIV128 = wire.SUITE_GCM_SIV


def generate_key_pair(cipher_suite=CipherSuite.X25519_AESGCM128):
    """(private, public) as raw bytes; the private key clamped."""
    del cipher_suite  # both suites use X25519 keys
    private = wire.clamp(os.urandom(32))
    return private, wire.public_key(private)


class PSSSTClient:
    """Packs requests; the reply handler is the request's `open_reply`."""

    def __init__(self, server_public_key, client_private_key=None,
                 cipher_suite=CipherSuite.X25519_AESGCM128):
        self.server_public = bytes(server_public_key)
        self.client_private = client_private_key
        self.suite = cipher_suite.value

    def pack_request(self, data):
        pending = wire.request(self.server_public, bytes(data), self.client_private,
                               ephemeral=wire.clamp(os.urandom(32)), suite=self.suite)
        return pending.packet, pending.open_reply


class PSSSTServer:
    """Opens requests of the given suite(s) (None: both); the reply handler
    is the request's `reply`."""

    def __init__(self, server_private_key, cipher_suite=None):
        self.private = bytes(server_private_key)
        self.suites = (tuple(s.value for s in CipherSuite) if cipher_suite is None
                       else (cipher_suite.value,))

    def unpack_request(self, packet):
        incoming = wire.open_request(self.private, bytes(packet), self.suites)
        return incoming.message, incoming.client_public, incoming.reply
