# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""
Packet Security for Stateless Server Transactions

A drop-in replacement for pypssst (PyPI ``pssst`` 0.2.1) built on the Rust
crate pssst-core: the same names and behaviour, faster, and every malformed
packet raises a :class:`PSSSTException` subclass. :mod:`pssst.aio` adds what
pypssst never had: an asyncio client and server over UDP.
"""

from ._pssst import __version__
from .header import Header, CipherSuite, HeaderFlag
from .pssst import PSSSTClient, PSSSTServer, generate_key_pair
from .errors import (
    PSSSTException, PSSSTUnsupportedCipher, PSSSTClientAuthFailed,
    PSSSTReplyMismatch, PSSSTNotReply, PSSSTNotRequest,
    PSSSTDecryptFailed, PSSSTHandlerReused,
    PSSSTTruncated, PSSSTLowOrderPoint, PSSSTInvalidKey,
    PSSSTMessageTooLarge, PSSSTRngFailure, PSSSTBufferTooSmall,
    PSSSTRetryWindowExceeded, PSSSTTimeout,
    )
from ._pssst import RETRANSMISSION_WINDOW, retry_waits



def __getattr__(name):
    # `import pssst` then `pssst.aio.connect(...)`, without importing
    # asyncio for users who never touch it.
    if name == "aio":
        import importlib  # pylint: disable=import-outside-toplevel
        return importlib.import_module(".aio", __name__)
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


__all__ = [
    "__version__",
    "PSSSTClient", "PSSSTServer", "generate_key_pair",
    "Header", "CipherSuite", "HeaderFlag",
    "PSSSTException", "PSSSTUnsupportedCipher", "PSSSTClientAuthFailed",
    "PSSSTReplyMismatch", "PSSSTNotReply", "PSSSTNotRequest",
    "PSSSTDecryptFailed", "PSSSTHandlerReused",
    "PSSSTTruncated", "PSSSTLowOrderPoint", "PSSSTInvalidKey",
    "PSSSTMessageTooLarge", "PSSSTRngFailure", "PSSSTBufferTooSmall",
    "PSSSTRetryWindowExceeded", "PSSSTTimeout",
    "RETRANSMISSION_WINDOW", "retry_waits",
]
