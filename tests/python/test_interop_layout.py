"""interop/driver.py checks the shape of every peer's packets with a small
copy of the packet layout (it runs on a bare python3, without pssst): the
copy agrees with what the pssst package packs and parses."""

import importlib.util

from pssst import CipherSuite, Header, PSSSTClient, PSSSTServer, generate_key_pair
from pssst import _pssst

from conftest import REPO_ROOT


def load_driver():
    spec = importlib.util.spec_from_file_location("driver", REPO_ROOT / "interop" / "driver.py")
    driver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(driver)
    return driver


def test_the_interop_drivers_layout_is_the_packages():
    driver = load_driver()
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)
    message = bytes(range(driver.MESSAGE_LEN))
    for request_tag, client_private in (("REQUEST", None), ("REQUEST_AUTH", generate_key_pair()[0])):
        request, _ = PSSSTClient(server_public, client_private).pack_request(message)
        _, _, reply_to = server.unpack_request(request)
        reply = reply_to(message)
        (reply_tag,) = [tag for tag, answers in driver.ANSWERS.items() if answers == request_tag]
        for tag, packet in ((request_tag, request), (reply_tag, reply)):
            flags, length = driver.EXPECTED[tag]
            assert len(packet) == length, tag
            header = Header.from_packet(packet)
            assert header.packet_bytes == packet[driver.HEADER] == flags + driver.SUITE1, tag
            assert packet[driver.FLAGS] == flags and packet[driver.SUITE] == driver.SUITE1, tag
            assert header.cipher_suite == CipherSuite.X25519_AESGCM128
            assert (header.reply, header.client_auth) == (tag.startswith("REPLY"),
                                                          tag.endswith("_AUTH")), tag
        # The DH parameter: where the package finds the id a reply answers.
        assert _pssst._reply_request_id(reply) == request[driver.DH_PARAM]  # pylint: disable=protected-access
        assert reply[driver.DH_PARAM] == request[driver.DH_PARAM]
