# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""PSSST client and server interfaces (pypssst's API, pssst-core's engine).

The classes subclass the native ones in :mod:`pssst._pssst`, so
``pack_request``, ``unpack_request`` and the reply handlers are native calls
with no Python frame in between. Keys are converted to raw bytes once, in
the constructors.
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


def generate_key_pair(cipher_suite=CipherSuite.X25519_AESGCM128):
    """A utility function to generate a suitable key pair for the given cipher suite

    :param cipher_suite: cipher suite for which to generate asymmetric key pair

    :raises PSSSTUnsupportedCipher: requested cipher suite is not supported.

    :return: (private_key, public_key) tuple of ``cryptography`` X25519 key objects
    """
    if cipher_suite != CipherSuite.X25519_AESGCM128:
        raise PSSSTUnsupportedCipher()

    new_private_key = X25519PrivateKey.generate()
    return (new_private_key, new_private_key.public_key())


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
    :param cipher_suite: cipher suite for which to generate asymmetric key pair

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
        if cipher_suite != CipherSuite.X25519_AESGCM128:
            raise PSSSTUnsupportedCipher()
        server_public = _raw_key(server_public_key, True)
        client_private = (None if client_private_key is None
                          else _raw_key(client_private_key, False))
        return super().__new__(cls, server_public, client_private)


class PSSSTServer(_pssst.Server):
    """PSSST server interface

    :param server_private_key: Private key for the server (hex string,
        bytes-like or ``cryptography`` X25519PrivateKey)
    :param cipher_suite: cipher suite for which to generate asymmetric key pair

    :raises PSSSTUnsupportedCipher: requested cipher suite is not supported.
    :raises PSSSTInvalidKey: the key is not 32 bytes / 64 hex digits.

    ``unpack_request(packet)`` returns ``(data, client_public_key or None,
    reply_handler)``; call ``reply_handler(reply_data)`` to get the reply
    packet. Instances are safe to share between threads.
    """

    __slots__ = ()

    def __new__(cls, server_private_key, cipher_suite=CipherSuite.X25519_AESGCM128):
        if cipher_suite != CipherSuite.X25519_AESGCM128:
            raise PSSSTUnsupportedCipher()
        return super().__new__(cls, _raw_key(server_private_key, False))
