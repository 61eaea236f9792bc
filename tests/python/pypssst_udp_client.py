"""A PSSST client over UDP built on pypssst (PyPI pssst==0.2.1), which has no
transport of its own: run with the python of pypssst's venv.

  python pypssst_udp_client.py HOST PORT SERVER_PUBLIC_HEX CLIENT_PRIVATE_HEX|- MESSAGE_HEX...

Sends each message in turn; prints {"pypssst": version, "replies": [hex...]}.
Each attempt goes out from a new socket, as pssst.aio's client does (a
flow-hashing balancer can then route a retry to another backend); the
reply handler takes a reply to any of them.
"""

import json
import select
import socket
import sys

import pssst

ATTEMPTS = 5
WAIT = 0.5


def request(client, address, message):
    packet, reply_handler = client.pack_request(message)
    sockets = []
    try:
        for attempt in range(ATTEMPTS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect(address)
            sockets.append(sock)
            sock.send(packet)
            ready, _, _ = select.select(sockets, [], [], WAIT * 2 ** attempt)
            for sock in ready:
                try:
                    return reply_handler(sock.recv(65536))
                except pssst.PSSSTException:
                    pass   # not our reply: keep waiting
        raise TimeoutError("no reply to {!r}".format(message))
    finally:
        for sock in sockets:
            sock.close()


def main():
    host, port, server_public, client_private = sys.argv[1:5]
    assert not hasattr(pssst, "_pssst"), "this must be pypssst, not pssst-rs"
    client = pssst.PSSSTClient(bytes.fromhex(server_public),
                               None if client_private == "-" else bytes.fromhex(client_private))
    replies = [request(client, (host, int(port)), bytes.fromhex(m)).hex() for m in sys.argv[5:]]
    print(json.dumps({"pypssst": pssst.__version__, "replies": replies}))


if __name__ == "__main__":
    main()
