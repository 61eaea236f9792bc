"""The source address handed to an application (PSSST_PEER for --exec,
Pssst-Peer for --forward): an IPv4 client of a dual-stack `[::]` listener
is shown as the IPv4 address it is, not as `[::ffff:127.0.0.1]`."""

import socket

from conftest import exchange
from test_forward import Backend, headers_of
from wire import request

# Long enough that the reply (an address) is not larger than the request.
MESSAGE = b"who am I?" * 8


def ask_over_ipv4(served):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        pending = request(served.public, MESSAGE)
        reply = pending.open_reply(exchange(("127.0.0.1", served.addr[1]), pending.packet,
                                            timeout=5, sock=sock))
        return reply, "127.0.0.1:%d" % sock.getsockname()[1]
    finally:
        sock.close()


def test_ipv4_clients_of_a_dual_stack_listener_are_shown_as_ipv4(serve):
    served = serve("--listen", "[::]:0", "--exec", 'printf %s "$PSSST_PEER"')
    reply, expected = ask_over_ipv4(served)
    assert reply == expected.encode()
    backend = Backend()
    try:
        served = serve("--listen", "[::]:0", "--forward", backend.url)
        reply, expected = ask_over_ipv4(served)
        assert reply == MESSAGE
        assert headers_of(backend.seen[0])["pssst-peer"] == expected
    finally:
        backend.stop()
