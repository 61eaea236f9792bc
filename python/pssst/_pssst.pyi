"""Type stubs for the native module ``pssst._pssst`` (pssst-core via PyO3).

Use the public classes in :mod:`pssst` (``PSSSTClient``, ``PSSSTServer``),
which subclass these and accept every key form; these take raw 32-byte keys.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from typing_extensions import disjoint_base, final

__all__ = [
    "__version__", "_backend", "Client", "ClientReplyHandler", "Server",
    "ServerReplyHandler", "_kdf_sha256", "MAX_DATAGRAM", "REPLY_CACHE_MIN_TTL",
    "RETRANSMISSION_WINDOW", "retry_waits",
    "_reply_request_id", "Responder", "Request",
]

_BytesLike = Union[bytes, bytearray, memoryview]

__version__: str
_backend: str
"""The X25519 implementation of this build: "aws-lc" or "x25519-dalek"."""

MAX_DATAGRAM: int
"""The largest UDP payload either side of :mod:`pssst.aio` sends (65,507)."""
REPLY_CACHE_MIN_TTL: float
"""The shortest reply cache TTL a server accepts, in seconds (11.5): the
retransmission window and a delivery margin."""
RETRANSMISSION_WINDOW: float
"""No client sends a copy of a request later than this many seconds (10.0)
after the first copy."""

def retry_waits(first_wait: float = 0.5, retries: int = 6) -> List[float]:
    """The wait of each send of one request, in seconds (``retries + 1``):
    doubling from ``first_wait`` up to 4 times it. Raises
    PSSSTRetryWindowExceeded when a copy would leave later than
    RETRANSMISSION_WINDOW after the first."""

def _kdf_sha256(dh_param: _BytesLike, shared_secret: _BytesLike) -> Tuple[bytes, bytes, bytes]:
    """Testing only: the KDF of every suite, ``(key, request_nonce, reply_nonce)``."""

def _reply_request_id(datagram: _BytesLike) -> Optional[bytes]:
    """The id of the request a datagram claims to answer (the DH parameter
    it carries), or ``None`` if it is not shaped like a reply."""

@final
class ClientReplyHandler:
    """Unpacks the one reply to one request. A reply that fails to unpack
    leaves it usable; after one success it raises PSSSTHandlerReused."""

    def __call__(self, data: _BytesLike) -> bytes: ...
    @property
    def used(self) -> bool: ...
    @property
    def request_id(self) -> bytes:
        """The request's DH parameter (32 bytes); its reply carries it too."""

@final
class ServerReplyHandler:
    """Packs the one reply to one request; a second call raises
    PSSSTHandlerReused."""

    def __call__(self, data: _BytesLike) -> bytes: ...
    @property
    def used(self) -> bool: ...

@disjoint_base
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

@disjoint_base
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

_Send = Callable[[bytes, Any], Any]

@final
class Request:
    """One request for a :mod:`pssst.aio` handler. Exactly one of
    ``reply``, ``fail``, ``time_out`` and ``cancel`` settles it; a second
    call raises PSSSTHandlerReused."""

    @property
    def message(self) -> bytes: ...
    @property
    def client_public_key(self) -> Optional[X25519PublicKey]: ...
    def reply(self, message: Optional[_BytesLike]) -> bool:
        """Seals and sends ``message`` (``None``: no reply); returns
        whether a reply was sent."""
    def fail(self) -> None: ...
    def time_out(self) -> None: ...
    def cancel(self) -> None: ...

@final
class Responder:
    """What :func:`pssst.aio.serve` does to a datagram, short of the I/O."""

    def __new__(
        cls,
        server_private: _BytesLike,
        authorized_keys: Optional[List[_BytesLike]],
        allow_amplification: bool,
        max_in_flight: int,
        reply_cache_bytes: int,
        reply_cache_ttl: float,
    ) -> "Responder": ...
    def receive(self, datagram: _BytesLike, peer: Any, send: _Send) -> Optional[Request]:
        """A new request for the handler, or ``None`` (dropped, or a copy
        answered here through ``send(packet, peer)``)."""
    def _public_key_bytes(self) -> bytes: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def reply_cache_ttl(self) -> float: ...
    def stats(self) -> Dict[str, int]: ...
