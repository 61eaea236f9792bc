"""Type stubs for :mod:`pssst.aio`: PSSST over UDP with asyncio."""

from types import TracebackType
from typing import (
    Any, Awaitable, Callable, Dict, Iterable, Optional, Tuple, Type, Union,
)

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey,
)

from .errors import PSSSTTimeout as PSSSTTimeout

__all__ = ["connect", "Client", "serve", "Server", "PSSSTTimeout"]

_BytesLike = Union[bytes, bytearray, memoryview]
_PublicKey = Union[X25519PublicKey, str, _BytesLike]
"""A public key: a ``cryptography`` key, 64 hex digits, or 32 bytes."""
_PrivateKey = Union[X25519PrivateKey, str, _BytesLike]
"""A private key: a ``cryptography`` key, 64 hex digits, or 32 bytes."""
_Address = Tuple[Any, ...]
"""``(host, port)`` (IPv6: also ``(host, port, flowinfo, scope_id)``)."""

_Handler = Callable[
    [bytes, Optional[X25519PublicKey]],
    Union[Optional[_BytesLike], Awaitable[Optional[_BytesLike]]],
]
"""``handler(message, client_public_key)``: the reply's message, or
``None`` for no reply; a coroutine function or a plain function."""

class Client:
    """A PSSST client over UDP; see :func:`connect`."""

    def __init__(self, pssst_client: Any, timeout: float, retries: int) -> None: ...
    @property
    def ignored(self) -> int:
        """Datagrams received and ignored: forged, corrupted, late, or for
        no request in flight."""
    async def request(self, message: _BytesLike) -> bytes:
        """The reply to ``message``; raises :class:`PSSSTTimeout` after the
        last retransmission."""
    def close(self) -> None: ...
    async def __aenter__(self) -> "Client": ...
    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

async def connect(
    address: _Address,
    server_public_key: _PublicKey,
    client_private_key: Optional[_PrivateKey] = None,
    *,
    timeout: float = 0.5,
    retries: int = 6,
) -> Client:
    """A client with one UDP socket; requests are anonymous without
    ``client_private_key``."""

class Server:
    """A running PSSST server; see :func:`serve`."""

    def __init__(self, handler: _Handler, responder: Any, drain_timeout: float) -> None: ...
    @property
    def sockname(self) -> _Address: ...
    @property
    def stats(self) -> Dict[str, int]: ...
    def close(self) -> None: ...
    async def wait_closed(self) -> None: ...
    async def __aenter__(self) -> "Server": ...
    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

async def serve(
    handler: _Handler,
    address: _Address,
    server_private_key: _PrivateKey,
    *,
    authorized_keys: Optional[Iterable[_PublicKey]] = None,
    allow_amplification: bool = False,
    max_in_flight: int = 256,
    reply_cache_bytes: int = 67108864,
    reply_cache_ttl: float = 60.0,
    drain_timeout: float = 5.0,
) -> Server:
    """Serves PSSST requests on ``address`` until the server is closed."""
