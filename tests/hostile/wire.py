"""PSSST suite 1 built from primitives (Python's `cryptography` only),
independent of pssst-core, so the attack tests can craft what no honest
client would send: non-canonical client keys, replays, floods.

Wire format: header (u16 flags BE, u16 suite) || dh_param (32) ||
AES-128-GCM(ciphertext || tag) with the header as AAD.
h = SHA-256(dh_param || shared); key = h[:16];
request nonce = h[16:24] + b"RQST"; reply nonce = h[24:32] + b"RPLY".
"""

import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REQUEST_AUTH = 0x4000
REPLY = 0x8000
SUITE1 = 1


def x25519(scalar: bytes, point: bytes) -> bytes:
    """X25519(scalar, point); cryptography clamps the scalar itself."""
    return X25519PrivateKey.from_private_bytes(scalar).exchange(
        X25519PublicKey.from_public_bytes(point)
    )


def public_key(private: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes_raw()
    )


def kdf(dh_param: bytes, shared: bytes):
    h = hashlib.sha256(dh_param + shared).digest()
    return h[:16], h[16:24] + b"RQST", h[24:32] + b"RPLY"


@dataclass
class Pending:
    """A request on the wire and what is needed to open its reply."""

    packet: bytes
    dh_param: bytes
    key: bytes
    reply_nonce: bytes
    flags: int

    def open_reply(self, packet: bytes) -> bytes:
        """The reply's message; raises ValueError for anything else."""
        if len(packet) < 52:
            raise ValueError("short reply")
        expected_flags = REPLY | (self.flags & REQUEST_AUTH)
        header = struct.pack(">HH", expected_flags, SUITE1)
        if packet[:4] != header or packet[4:36] != self.dh_param:
            raise ValueError("not the reply to this request")
        return AESGCM(self.key).decrypt(self.reply_nonce, packet[36:], header)


def request(
    server_public: bytes,
    message: bytes,
    client_private: bytes | None = None,
    claimed_client_key: bytes | None = None,
    ephemeral: bytes | None = None,
) -> Pending:
    """An anonymous request, or with `client_private` a client-auth one
    whose proof embeds `claimed_client_key` (default: the real public key)."""
    e = ephemeral or os.urandom(32)
    if client_private is None:
        flags = 0
        dh_param = public_key(e)
        shared = x25519(e, server_public)
        plaintext = message
    else:
        flags = REQUEST_AUTH
        claimed = claimed_client_key or public_key(client_private)
        dh_param = x25519(e, claimed)
        shared = x25519(e, x25519(client_private, server_public))
        plaintext = claimed + e + message
    key, request_nonce, reply_nonce = kdf(dh_param, shared)
    header = struct.pack(">HH", flags, SUITE1)
    sealed = AESGCM(key).encrypt(request_nonce, plaintext, header)
    return Pending(header + dh_param + sealed, dh_param, key, reply_nonce, flags)
