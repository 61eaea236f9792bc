"""PSSST suites 1 and 0xFF01 built from primitives (Python's `cryptography`
only), independent of pssst-core, so the attack tests can craft what no
honest client would send (non-canonical client keys, replays, floods) and
the suite-0xFF01 vectors and interop checks have a second implementation.

Wire format: header (u16 flags BE, u16 suite) || dh_param (32) ||
AEAD(ciphertext || tag) with the header as AAD; the AEAD is AES-128-GCM
for suite 1 and AES-128-GCM-SIV for suite 0xFF01, nothing else differs.
h = SHA-256(dh_param || shared); key = h[:16];
request nonce = h[16:24] + b"RQST"; reply nonce = h[24:32] + b"RPLY".
"""

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESGCMSIV

REQUEST_AUTH = 0x4000
REPLY = 0x8000
SUITE1 = 1
SUITE_GCM_SIV = 0xFF01
AEADS = {SUITE1: AESGCM, SUITE_GCM_SIV: AESGCMSIV}
OVERHEAD = 4 + 32 + 16


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
    suite: int = SUITE1

    def reply_header(self) -> bytes:
        return struct.pack(">HH", REPLY | (self.flags & REQUEST_AUTH), self.suite)

    def open_reply(self, packet: bytes) -> bytes:
        """The reply's message; raises ValueError for anything else
        (cryptography's InvalidTag for a reply that does not decrypt)."""
        if len(packet) < OVERHEAD:
            raise ValueError("short reply")
        header = self.reply_header()
        if packet[:4] != header or packet[4:36] != self.dh_param:
            raise ValueError("not the reply to this request")
        return AEADS[self.suite](self.key).decrypt(self.reply_nonce, packet[36:], header)

    def seal_reply(self, message: bytes) -> bytes:
        """The server's reply carrying `message`."""
        header = self.reply_header()
        sealed = AEADS[self.suite](self.key).encrypt(self.reply_nonce, message, header)
        return header + self.dh_param + sealed


def request(
    server_public: bytes,
    message: bytes,
    client_private: bytes | None = None,
    claimed_client_key: bytes | None = None,
    ephemeral: bytes | None = None,
    suite: int = SUITE1,
) -> Pending:
    """An anonymous request, or with `client_private` a client-auth one
    whose proof embeds `claimed_client_key` (default: the real public key).
    `ephemeral` goes into a client-auth proof as given (X25519 clamps it
    for the DH): pass it clamped to match what implementations send."""
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
    header = struct.pack(">HH", flags, suite)
    sealed = AEADS[suite](key).encrypt(request_nonce, plaintext, header)
    return Pending(header + dh_param + sealed, dh_param, key, reply_nonce, flags, suite)


def clamp(scalar: bytes) -> bytes:
    """An X25519 scalar as X25519 uses it (RFC 7748)."""
    clamped = bytearray(scalar)
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    return bytes(clamped)


class Rejected(ValueError):
    """A request the independent server refuses; `kind` is the class the
    reject vectors name ("truncated", "decryption failed", ...)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class Incoming:
    """A request opened by the independent server."""

    message: bytes
    client_public: bytes | None
    pending: Pending  # what the reply is sealed with

    def reply(self, message: bytes) -> bytes:
        return self.pending.seal_reply(message)


def open_request(
    server_private: bytes, packet: bytes, suites=(SUITE1, SUITE_GCM_SIV)
) -> Incoming:
    """The server side: checks, decrypts and verifies a request; raises
    Rejected with the class of the failure."""
    if len(packet) < 4:
        raise Rejected("truncated")
    flags, suite = struct.unpack(">HH", packet[:4])
    if flags & REPLY:
        raise Rejected("not a request")
    if suite not in suites or suite not in AEADS:
        raise Rejected("unsupported cipher suite")
    if len(packet) < OVERHEAD:
        raise Rejected("truncated")
    dh_param = packet[4:36]
    try:
        shared = x25519(server_private, dh_param)
    except ValueError as error:  # cryptography refuses an all-zero result
        raise Rejected("low-order point") from error
    key, request_nonce, reply_nonce = kdf(dh_param, shared)
    try:
        plaintext = AEADS[suite](key).decrypt(request_nonce, packet[36:], packet[:4])
    except InvalidTag as error:
        raise Rejected("decryption failed") from error
    client_public = None
    if flags & REQUEST_AUTH:
        if len(plaintext) < 64:
            raise Rejected("truncated")
        client_public, ephemeral = plaintext[:32], plaintext[32:64]
        try:
            proof = x25519(ephemeral, client_public)
        except ValueError as error:
            raise Rejected("client auth failed") from error
        if not hmac.compare_digest(proof, dh_param):
            raise Rejected("client auth failed")
        plaintext = plaintext[64:]
    pending = Pending(packet, dh_param, key, reply_nonce, flags, suite)
    return Incoming(plaintext, client_public, pending)
