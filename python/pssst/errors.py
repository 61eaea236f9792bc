# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""Exceptions raised by PSSST.

The first eight classes are pypssst's, with the same names and hierarchy.
The others are new: pypssst leaks ``struct.error``/``ValueError`` for the
inputs they cover; here every bad packet raises a :class:`PSSSTException`.
:class:`PSSSTTimeout` is raised by :mod:`pssst.aio`'s client, which pypssst
does not have.

Where pypssst raises one of its own classes for a bad packet, this package
raises that class or a subclass of it: a packet too short to hold an
authentication tag is :class:`PSSSTDecryptFailed` in pypssst, and
:class:`PSSSTTruncated` (a subclass of it) here.
"""

__all__ = [
    "PSSSTException", "PSSSTUnsupportedCipher", "PSSSTClientAuthFailed",
    "PSSSTReplyMismatch", "PSSSTNotReply", "PSSSTNotRequest",
    "PSSSTDecryptFailed", "PSSSTHandlerReused",
    "PSSSTTruncated", "PSSSTLowOrderPoint", "PSSSTInvalidKey",
    "PSSSTMessageTooLarge", "PSSSTRngFailure", "PSSSTBufferTooSmall",
    "PSSSTRetryWindowExceeded",
    "PSSSTTimeout",
]


class PSSSTException(Exception):
    """General PSSST exception"""


class PSSSTUnsupportedCipher(PSSSTException):
    """Cipher suite not supported"""


class PSSSTClientAuthFailed(PSSSTException):
    """Client authentication failed"""


class PSSSTReplyMismatch(PSSSTException):
    """Reply packet does not match request"""


class PSSSTNotReply(PSSSTException):
    """Packet is not a reply"""


class PSSSTNotRequest(PSSSTException):
    """Packet is not a request"""


class PSSSTDecryptFailed(PSSSTException):
    """Authenticated decryption failed"""


class PSSSTHandlerReused(PSSSTException):
    """Reply handlers can not be reused"""


class PSSSTTruncated(PSSSTDecryptFailed):
    """Packet (or the client-auth proof inside it) is too short to parse.

    A subclass of :class:`PSSSTDecryptFailed`, which pypssst raises for
    packets too short to hold an authentication tag.
    """


class PSSSTLowOrderPoint(PSSSTException):
    """A low-order X25519 point: the shared secret would be all zero"""


class PSSSTInvalidKey(PSSSTException, ValueError):
    """A key is not 32 bytes or 64 hex digits.

    Also a ``ValueError``, which pypssst (through ``cryptography``) raises
    for bad keys.
    """


class PSSSTMessageTooLarge(PSSSTException):
    """The message is too long for one packet"""


class PSSSTRetryWindowExceeded(PSSSTException, ValueError):
    """A retry schedule would resend a request past the retransmission window.

    No copy of a request may leave later than ``pssst.RETRANSMISSION_WINDOW``
    seconds after the first: the server may have forgotten its reply, and a
    second, different reply would reuse the AES-GCM nonce. Send a fresh
    request instead (the server's handler may then run twice). Also a
    ``ValueError``.
    """


class PSSSTRngFailure(PSSSTException):
    """The operating system's random number generator failed"""


class PSSSTBufferTooSmall(PSSSTException):
    """An output buffer is too small (not raised by the Python API)"""


class PSSSTTimeout(PSSSTException, TimeoutError):
    """No reply after every retransmission (:mod:`pssst.aio`).

    Also a ``TimeoutError``, so code that handles timeouts in general
    handles this one.
    """
