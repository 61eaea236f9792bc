# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""PSSST client and server interfaces (pypssst's API, pssst-core's engine).

The classes subclass the native ones in :mod:`pssst._pssst`, so
``pack_request``, ``unpack_request`` and the reply handlers are native calls
with no Python frame in between. Keys are converted to raw bytes once, in
the constructors.

pypssst's private helpers that its own tests use to build packets by hand,
``_DKF_SHA256`` and ``_key_check``, are here too, with pypssst's signatures
and results; the KDF is computed by pssst-core.
"""

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding, NoEncryption, PrivateFormat, PublicFormat,
)

from . import _pssst
from .errors import PSSSTInvalidKey, PSSSTUnsupportedCipher
from .header import CipherSuite

__all__ = ["PSSSTClient", "PSSSTServer", "generate_key_pair"]

_BYTES_LIKE = (bytes, bytearray, memoryview)
# The suites pssst-core implements; both use X25519 keys.
_SUITES = (CipherSuite.X25519_AESGCM128, CipherSuite.X25519_AESGCMSIV128)


def _suite_id(cipher_suite):
    """The header identifier of a supported CipherSuite member; as in
    pypssst, anything else (NONE, ints, names) is PSSSTUnsupportedCipher."""
    if not isinstance(cipher_suite, CipherSuite) or cipher_suite not in _SUITES:
        raise PSSSTUnsupportedCipher(
            "unsupported cipher suite {!r}".format(cipher_suite))
    return cipher_suite.value


def generate_key_pair(cipher_suite=CipherSuite.X25519_AESGCM128):
    """A utility function to generate a suitable key pair for the given cipher suite

    :param cipher_suite: cipher suite for which to generate asymmetric key pair
        (both suites use X25519 keys)

    :raises PSSSTUnsupportedCipher: requested cipher suite is not supported.

    :return: (private_key, public_key) tuple of ``cryptography`` X25519 key objects
    """
    _suite_id(cipher_suite)

    new_private_key = X25519PrivateKey.generate()
    return (new_private_key, new_private_key.public_key())


def _DKF_SHA256(dh_param, shared_secret):  # pylint: disable=invalid-name
    """pypssst's private KDF: ``(key, request_nonce, reply_nonce)``.

    ``SHA-256(dh_param || shared_secret)`` split into the 16-byte AES key and
    the two 12-byte nonces (``h[16:24] + b"RQST"``, ``h[24:32] + b"RPLY"``),
    computed by pssst-core. Both inputs are 32 bytes (``ValueError``
    otherwise); pypssst's own tests use it to forge requests.
    """
    return _pssst._kdf_sha256(dh_param, shared_secret)  # pylint: disable=protected-access


def _key_check(key_value, public):
    """pypssst's private key conversion: ``None``, or a ``cryptography`` key
    object from a hex ``str``, ``bytes`` or a key object (returned as is)."""
    if key_value is None:
        return None
    if isinstance(key_value, str):
        key_value = bytes.fromhex(key_value)
    if isinstance(key_value, bytes):
        if public:
            key_value = X25519PublicKey.from_public_bytes(key_value)
        else:
            key_value = X25519PrivateKey.from_private_bytes(key_value)
    return key_value


def _raw_key(key_value, public):
    """32 raw bytes from any key form pypssst accepts, and bytes-likes."""
    kind = "public" if public else "private"
    if isinstance(key_value, str):
        try:
            key_value = bytes.fromhex(key_value)
        except ValueError as err:
            raise PSSSTInvalidKey(
                "invalid {} key: not a hex string".format(kind)) from err
    if isinstance(key_value, _BYTES_LIKE):
        raw = bytes(key_value)
        if len(raw) != 32:
            raise PSSSTInvalidKey(
                "an X25519 {} key is 32 bytes long, not {}".format(kind, len(raw)))
        return raw
    if public and isinstance(key_value, X25519PublicKey):
        return key_value.public_bytes(encoding=Encoding.Raw, format=PublicFormat.Raw)
    if not public and isinstance(key_value, X25519PrivateKey):
        return key_value.private_bytes(encoding=Encoding.Raw,
                                       format=PrivateFormat.Raw,
                                       encryption_algorithm=NoEncryption())
    raise TypeError(
        "the {} key must be a hex str, bytes-like or an X25519{}Key, not {}".format(
            kind, "Public" if public else "Private", type(key_value).__name__))


class PSSSTClient(_pssst.Client):
    """PSSST client interface

    :param server_public_key: Public key of the target server
    :param client_private_key: Private key for client authentication, defaults to None
    :param cipher_suite: cipher suite of the requests (and their replies):
        ``CipherSuite.X25519_AESGCM128`` (the default, understood by every
        PSSST server) or ``CipherSuite.X25519_AESGCMSIV128``

    Keys may be hex strings, bytes, bytearray, memoryview or ``cryptography``
    X25519 key objects.

    :raises PSSSTUnsupportedCipher: requested cipher suite is not supported.
    :raises PSSSTInvalidKey: a key is not 32 bytes / 64 hex digits.
    :raises PSSSTLowOrderPoint: the server key is a low-order point.

    ``pack_request(data)`` returns ``(packet, reply_handler)``; call
    ``reply_handler(reply_packet)`` to get the reply message. Instances are
    safe to share between threads.
    """

    __slots__ = ()

    def __new__(cls, server_public_key,
                client_private_key=None,
                cipher_suite=CipherSuite.X25519_AESGCM128):
        suite = _suite_id(cipher_suite)
        server_public = _raw_key(server_public_key, True)
        client_private = (None if client_private_key is None
                          else _raw_key(client_private_key, False))
        return super().__new__(cls, server_public, client_private, suite)

    @property
    def cipher_suite(self):
        """The cipher suite of this client's requests"""
        return CipherSuite(self.suite)


class PSSSTServer(_pssst.Server):
    """PSSST server interface

    :param server_private_key: Private key for the server (hex string,
        bytes-like or ``cryptography`` X25519PrivateKey)
    :param cipher_suite: the cipher suites to accept: None (the default)
        for every suite pssst-rs implements, one ``CipherSuite`` member for
        that suite alone, or a collection of members. Each reply uses its
        request's suite; other suites raise PSSSTUnsupportedCipher.

    :raises PSSSTUnsupportedCipher: requested cipher suite is not supported.
    :raises PSSSTInvalidKey: the key is not 32 bytes / 64 hex digits.

    ``unpack_request(packet)`` returns ``(data, client_public_key or None,
    reply_handler)``; call ``reply_handler(reply_data)`` to get the reply
    packet. Instances are safe to share between threads.
    """

    __slots__ = ()

    def __new__(cls, server_private_key, cipher_suite=None):
        if cipher_suite is None:
            suites = None
        elif isinstance(cipher_suite, (list, tuple, set, frozenset)):
            suites = [_suite_id(suite) for suite in cipher_suite]
            if not suites:
                raise PSSSTUnsupportedCipher("a server must accept at least one cipher suite")
        else:
            suites = [_suite_id(cipher_suite)]
        return super().__new__(cls, _raw_key(server_private_key, False), suites)

    @property
    def cipher_suites(self):
        """The cipher suites this server accepts (a frozenset)"""
        return frozenset(CipherSuite(suite) for suite in self.suites)
