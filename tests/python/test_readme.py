"""The Python examples run as written: README.md's quick-start, and the
retry pattern of docs/scaling-out.md against a balancer that pins the
client's first flow to a dead backend."""

import re
import socket
import subprocess
import sys
import threading

from conftest import REPO_ROOT


def python_blocks(name="python", document="README.md"):
    text = (REPO_ROOT / document).read_text(encoding="utf-8")
    section = re.search(rf"<!-- section: {name} -->(.*?)<!-- /section: {name} -->", text, re.S)
    assert section, f"{document} has no {name} section"
    return re.findall(r"```python\n(.*?)```", section.group(1), re.S)


def test_readme_python_quick_start_runs():
    blocks = python_blocks()
    assert blocks, "the python section of README.md has no ```python block"
    for code in blocks:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


class PinnedToADeadBackend:
    """A PSSST echo server behind a flow-pinning balancer whose first flow
    went to a dead backend: datagrams from the first source port seen are
    dropped, every other flow is answered. Runs on a thread until closed."""

    def __init__(self):
        import pssst
        private, self.public = pssst.generate_key_pair()
        self.server = pssst.PSSSTServer(private)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = self.sock.getsockname()
        self.dead_port, self.dropped, self.answered_ports = None, 0, []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve)
        self.thread.start()

    def _serve(self):
        while not self.closing.is_set():
            try:
                packet, peer = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            if self.dead_port in (None, peer[1]):
                self.dead_port = peer[1]
                self.dropped += 1
                continue
            message, _, reply = self.server.unpack_request(packet)
            self.sock.sendto(reply(message), peer)
            self.answered_ports.append(peer[1])

    def close(self):
        self.closing.set()
        self.thread.join()
        self.sock.close()


def test_documented_retry_pattern_leaves_a_dead_flow():
    import pssst
    (code,) = python_blocks("python-retry", "docs/scaling-out.md")
    namespace = {}
    exec(code, namespace)
    transact = namespace["transact"]
    balancer = PinnedToADeadBackend()
    try:
        client = pssst.PSSSTClient(balancer.public)
        reply = transact(client, balancer.address, b"anyone there?", timeout=0.05, retries=4)
        assert reply == b"anyone there?"
        assert transact(client, balancer.address, b"again", timeout=0.05) == b"again"
    finally:
        balancer.close()
    # The first attempt went down the dead flow; a retry on a new port got through.
    assert balancer.dropped >= 1
    assert balancer.dead_port not in balancer.answered_ports
