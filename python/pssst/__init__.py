# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""
Packet Security for Stateless Server Transactions

A drop-in replacement for pypssst (PyPI ``pssst`` 0.2.1) built on the Rust
crate pssst-core: the same names and behaviour, faster, and every malformed
packet raises a :class:`PSSSTException` subclass.
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
    )

__all__ = [
    "__version__",
    "PSSSTClient", "PSSSTServer", "generate_key_pair",
    "Header", "CipherSuite", "HeaderFlag",
    "PSSSTException", "PSSSTUnsupportedCipher", "PSSSTClientAuthFailed",
    "PSSSTReplyMismatch", "PSSSTNotReply", "PSSSTNotRequest",
    "PSSSTDecryptFailed", "PSSSTHandlerReused",
    "PSSSTTruncated", "PSSSTLowOrderPoint", "PSSSTInvalidKey",
    "PSSSTMessageTooLarge", "PSSSTRngFailure", "PSSSTBufferTooSmall",
]
