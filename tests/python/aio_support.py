"""What the pssst.aio tests share: the `pssst` binary, a `pssst serve` in
the background, a fake UDP server that records what the client sends, and
raw datagrams from a socket of the test's own."""

import asyncio
import fcntl
import os
import pathlib
import re
import socket
import struct
import subprocess
import time

import pytest

from conftest import REPO_ROOT

#: A PSSST client over UDP on pypssst, run with pypssst's python.
HERE_PYPSSST_CLIENT = pathlib.Path(__file__).resolve().parent / "pypssst_udp_client.py"


def pssst_bin():
    """The `pssst` CLI: $PSSST_BIN (tests/legs/40-python.sh builds it), else
    target/release/pssst; missing, the test fails (never a skip)."""
    path = os.environ.get("PSSST_BIN") or str(pathlib.Path(os.environ.get(
        "CARGO_TARGET_DIR", REPO_ROOT / "target")) / "release" / "pssst")
    if not pathlib.Path(path).is_file():
        pytest.fail("no `pssst` binary at {} (cargo build --release -p pssst-cli, or set "
                    "PSSST_BIN)".format(path))
    return path


class PssstServe:
    """`pssst serve --listen 127.0.0.1:0 ARGS...`, stopped on exit."""

    def __init__(self, tmp_path, *args):
        self.key_file = tmp_path / "server.key"
        subprocess.run([pssst_bin(), "keygen", str(self.key_file)], check=True,
                       capture_output=True)
        self._proc = subprocess.Popen(
            [pssst_bin(), "serve", "--key", str(self.key_file), "--listen", "127.0.0.1:0",
             "--workers", "2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline()
        found = re.search(r"listening on (\S+):(\d+) .*public key ([0-9a-f]{64})", line)
        if not found:
            self._proc.kill()
            pytest.fail("pssst serve did not start: {!r} {}".format(
                line, self._proc.stderr.read()))
        self.address = (found.group(1), int(found.group(2)))
        self.public_key = found.group(3)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def keygen(path):
    """`pssst keygen PATH`; returns the hex public key."""
    return subprocess.run([pssst_bin(), "keygen", str(path)], check=True,
                          capture_output=True, text=True).stdout.strip()


async def pssst_send(address, server_public_hex, message, *extra):
    """`pssst send` run without blocking the event loop (the server under
    test runs on it): (exit status, stdout bytes, stderr text)."""
    proc = await asyncio.create_subprocess_exec(
        pssst_bin(), "send", "--server", "{}:{}".format(*address),
        "--server-key", server_public_hex, *extra, message,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out, err.decode()


#: Linux: when the kernel stamped the last datagram read from a socket
#: (stamping starts with the first call, which has nothing to report).
SIOCGSTAMPNS = 0x8907


def arrival_time(sock):
    """The wall-clock time the last datagram read from `sock` arrived."""
    seconds, nanoseconds = struct.unpack("qq", fcntl.ioctl(sock.fileno(), SIOCGSTAMPNS, bytes(16)))
    return seconds + nanoseconds / 1e9


class Recorder(asyncio.DatagramProtocol):
    """A fake server: records (arrival time, source address, bytes) of
    every datagram; `answer(datagram, addr, recorder)` may reply through
    `recorder.transport`. The arrival time is the kernel's (on loopback,
    when the client sent it), not when the event loop got round to it: on
    a loaded machine that can be tens of milliseconds later, and not by the
    same amount for each datagram."""

    def __init__(self, answer=None):
        self.transport = None
        self.seen = []
        self._answer = answer
        self.arrived = asyncio.Event()

    def connection_made(self, transport):
        self.transport = transport
        try:
            arrival_time(transport.get_extra_info("socket"))
        except FileNotFoundError:
            pass  # nothing read yet: from now on each datagram is stamped

    def datagram_received(self, data, addr):
        self.seen.append((arrival_time(self.transport.get_extra_info("socket")), addr, data))
        self.arrived.set()
        if self._answer is not None:
            self._answer(data, addr, self)

    async def wait_for(self, count, timeout=10):
        """Waits until `count` datagrams have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.seen) < count:
            self.arrived.clear()
            remaining = deadline - time.monotonic()
            assert remaining > 0, "{} datagrams seen, waited for {}".format(len(self.seen), count)
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass


async def recorder(answer=None):
    """A Recorder bound to a free port on 127.0.0.1: (recorder, address)."""
    _, proto = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: Recorder(answer), local_addr=("127.0.0.1", 0))
    return proto, proto.transport.get_extra_info("sockname")


def raw_socket():
    """A non-blocking UDP socket of the test's own, on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def receive(sock, timeout):
    """The next datagram on `sock`, or None after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), timeout)
    except asyncio.TimeoutError:
        return None


async def until(condition, timeout=10):
    """Waits (yielding to the loop) until `condition()` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in {} s".format(timeout)
        await asyncio.sleep(0.005)
