"""Attack 6: one private key must not give several client identities. A
client-auth request embedding a non-canonical encoding of the client key
(bit 255 set, which X25519 ignores) is refused."""

import os

from conftest import exchange
from wire import public_key, request

WHO = ["--exec", 'printf %s "$PSSST_CLIENT_KEY"']


def test_canonical_key_is_the_identity(serve):
    served = serve(*WHO)
    client = os.urandom(32)
    pending = request(served.public, b"who am i?", client_private=client)
    reply = exchange(served.addr, pending.packet, timeout=2)
    assert reply is not None
    assert pending.open_reply(reply) == public_key(client).hex().encode()


def test_key_with_bit_255_set_is_refused(serve):
    served = serve(*WHO)
    client = os.urandom(32)
    twin = bytearray(public_key(client))
    twin[31] |= 0x80
    pending = request(served.public, b"who am i?", client_private=client,
                      claimed_client_key=bytes(twin))
    assert exchange(served.addr, pending.packet, timeout=1) is None
    stats = served.stats()
    assert stats.get("client_auth_failed", 0) == 1, stats
