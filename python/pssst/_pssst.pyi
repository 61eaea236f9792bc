"""Type stubs for the native module ``pssst._pssst`` (pssst-core via PyO3).

Use the public classes in :mod:`pssst` (``PSSSTClient``, ``PSSSTServer``),
which subclass these and accept every key form; these take raw 32-byte keys.
"""

from typing import List, Optional, Sequence, Tuple, Union

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

_BytesLike = Union[bytes, bytearray, memoryview]

__version__: str
_backend: str
"""The X25519 implementation of this build: "aws-lc" or "x25519-dalek"."""

def _kdf_sha256(dh_param: _BytesLike, shared_secret: _BytesLike) -> Tuple[bytes, bytes, bytes]:
    """Testing only: the KDF of every suite, ``(key, request_nonce, reply_nonce)``."""

class ClientReplyHandler:
    """Unpacks the one reply to one request. A reply that fails to unpack
    leaves it usable; after one success it raises PSSSTHandlerReused."""

    def __call__(self, data: _BytesLike) -> bytes: ...
    @property
    def used(self) -> bool: ...

class ServerReplyHandler:
    """Packs the one reply to one request; a second call raises
    PSSSTHandlerReused."""

    def __call__(self, data: _BytesLike) -> bytes: ...
    @property
    def used(self) -> bool: ...

class Client:
    """Thread-safe; the X25519 work runs with the GIL released."""

    def __new__(
        cls,
        server_public: _BytesLike,
        client_private: Optional[_BytesLike] = None,
        suite: int = 1,
    ) -> "Client":
        """``suite``: the cipher suite identifier (1 or 0xFF01)."""
    @property
    def suite(self) -> int:
        """The cipher suite identifier of this client's requests."""
    def pack_request(self, data: _BytesLike) -> Tuple[bytes, ClientReplyHandler]: ...
    def _pack_request_with_ephemeral(
        self, data: _BytesLike, ephemeral: _BytesLike
    ) -> Tuple[bytes, ClientReplyHandler]:
        """Testing only (known-answer vectors): the ephemeral is given, not random."""

class Server:
    """Thread-safe; the X25519 work runs with the GIL released."""

    def __new__(
        cls, server_private: _BytesLike, suites: Optional[Sequence[int]] = None
    ) -> "Server":
        """``suites``: the cipher suite identifiers to accept (None: all)."""
    @property
    def suites(self) -> List[int]:
        """The cipher suite identifiers this server accepts."""
    def unpack_request(
        self, packet: _BytesLike
    ) -> Tuple[bytes, Optional[X25519PublicKey], ServerReplyHandler]: ...
    def _public_key_bytes(self) -> bytes: ...
