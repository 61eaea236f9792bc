# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""Packet header abstraction and details (as in pypssst)."""

from enum import Enum, IntFlag
import struct

from .errors import PSSSTTruncated, PSSSTUnsupportedCipher

__all__ = ["HeaderFlag", "CipherSuite", "Header"]

_HEADER = struct.Struct(">HH")


class HeaderFlag(IntFlag):
    """Flags as used in PSSST packet headers"""
    REPLY = (1 << 15)
    CLIENT_AUTH = (1 << 14)


class CipherSuite(Enum):
    """Identifiers for known cipher suites

    ``X25519_AESGCM128`` (1) is the suite of pypssst and gopssst and the
    clients' default. ``X25519_AESGCMSIV128`` (0xFF01, from the private-use
    range) is the same with AES-128-GCM-SIV: a retried request may get a
    different reply without weakening the encryption. Only pssst-rs
    understands it.
    """
    NONE = 0
    X25519_AESGCM128 = 1
    X25519_AESGCMSIV128 = 0xFF01


class Header:
    """PSSST packet header definition"""

    def __init__(self, cipher_suite=CipherSuite.NONE, reply=False, client_auth=False):
        self._flags = (
            (HeaderFlag.REPLY if reply else 0) |
            (HeaderFlag.CLIENT_AUTH if client_auth else 0)
        )
        self._suite = cipher_suite

    def __repr__(self):
        return "{}(cipher_suite={}, reply={}, client_auth={})".format(
            self.__class__.__name__,
            self.cipher_suite, self.reply, self.client_auth)

    @classmethod
    def from_packet(cls, packet):
        """Create a new Header object from packet bytes.

        ``packet`` is the 4 header bytes or a whole packet (bytes, bytearray
        or memoryview); only its first 4 bytes are read.

        :raises PSSSTTruncated: fewer than 4 bytes.
        :raises PSSSTUnsupportedCipher: unknown cipher suite field.
        """
        # pylint: disable=protected-access
        try:
            flags, suite = _HEADER.unpack_from(packet)
        except struct.error as err:
            raise PSSSTTruncated("packet truncated: a header is 4 bytes") from err
        except TypeError as err:
            raise TypeError(
                "a bytes-like object is required, not {!r}".format(type(packet).__name__)
            ) from err
        hdr = cls()
        hdr._flags = flags
        try:
            hdr._suite = CipherSuite(suite)
        except ValueError as err:
            raise PSSSTUnsupportedCipher("unsupported cipher suite {}".format(suite)) from err
        return hdr

    @property
    def reply(self):
        """True if the packet is a reply"""
        return bool(self._flags & HeaderFlag.REPLY)

    @reply.setter
    def reply(self, is_reply):
        if is_reply:
            self._flags |= HeaderFlag.REPLY
        else:
            self._flags &= ~HeaderFlag.REPLY

    @property
    def client_auth(self):
        """True if client authentication is used"""
        return bool(self._flags & HeaderFlag.CLIENT_AUTH)

    @client_auth.setter
    def client_auth(self, has_client_auth):
        if has_client_auth:
            self._flags |= HeaderFlag.CLIENT_AUTH
        else:
            self._flags &= ~HeaderFlag.CLIENT_AUTH

    @property
    def cipher_suite(self):
        """Cipher suite used by this packet"""
        return self._suite

    @cipher_suite.setter
    def cipher_suite(self, suite):
        self._suite = suite

    @property
    def packet_bytes(self):
        """The packet header as a byte block"""
        return _HEADER.pack(self._flags & 0xFFFF, self._suite.value)
