"""Fixtures for the attack tests: a real `pssst serve` process on loopback,
driven from outside (this process never links pssst-core)."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

PSSST = os.environ.get("PSSST_BIN", "")


def pytest_collection_modifyitems(config, items):
    if not PSSST or not os.access(PSSST, os.X_OK):
        raise pytest.UsageError(f"PSSST_BIN must name the pssst binary (got {PSSST!r})")


def pytest_terminal_summary(terminalreporter):
    # A skipped attack test is a test that did not run: fail loudly.
    if terminalreporter.stats.get("skipped"):
        terminalreporter.write_line("skipped tests are failures here", red=True)
        terminalreporter._session.exitstatus = 1


class Served:
    """One `pssst serve` process and what it printed."""

    def __init__(self, workdir: Path, args, key_name="server.key"):
        self.workdir = workdir
        self.key = workdir / key_name
        if not self.key.exists():
            subprocess.run([PSSST, "keygen", str(self.key)], check=True, capture_output=True)
        self.stats_file = workdir / f"{key_name}.{time.monotonic_ns()}.stats"
        self.err = open(workdir / f"{key_name}.{time.monotonic_ns()}.err", "w+b")
        cmd = [PSSST, "serve", "--key", str(self.key), "--stats-file", str(self.stats_file),
               "--stats-interval-ms", "50", *args]
        if "--listen" not in args:
            cmd += ["--listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode()
        self.first_line = line
        m = re.search(r"listening on (\S+):(\d+) .*public key ([0-9a-f]{64})", line)
        if not m:
            self.proc.kill()
            self.err.seek(0)
            raise RuntimeError(f"serve did not start: {line!r} {self.err.read()!r}")
        self.addr = (m.group(1), int(m.group(2)))
        self.public = bytes.fromhex(m.group(3))

    @property
    def pid(self):
        return self.proc.pid

    def stats(self) -> dict:
        """The counters of a snapshot taken after this call began: the file
        must be replaced twice (each rewrite renames a new file over it), as
        the first replacement may carry a snapshot taken just before. A
        fixed sleep of two intervals is not enough on a loaded machine."""
        replaced, last = 0, self._version()
        deadline = time.monotonic() + 15
        while replaced < 2:
            assert self.proc.poll() is None, "serve exited: its stats file is no longer rewritten"
            assert time.monotonic() < deadline, "the stats file was not rewritten twice in 15 s"
            time.sleep(0.01)
            now = self._version()
            if now != last:
                replaced, last = replaced + 1, now
        text = self.stats_file.read_text()
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", text)}

    def _version(self):
        st = self.stats_file.stat()
        return st.st_ino, st.st_mtime_ns

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("serve did not stop on SIGTERM within 10 s")


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(*args, key_name="server.key"):
        served = Served(tmp_path, list(args), key_name)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def exchange(addr, packet: bytes, timeout=1.0, sock=None):
    """Sends `packet` from a new socket (or `sock`) and returns the first
    datagram back, or None after `timeout`."""
    own = sock is None
    sock = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(packet, addr)
        try:
            return sock.recvfrom(1 << 16)[0]
        except TimeoutError:
            return None
    finally:
        if own:
            sock.close()


def children_of(pid: int):
    """(pid, state, command) of every process whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append((int(entry.name), fields[0], cmdline))
    return found


def zombies_named(name: str):
    """Pids of zombie processes whose command name is `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            if comm == name and stat[stat.rindex(")") + 2] == "Z":
                found.append(int(entry.name))
    return found


def processes_matching(text: str):
    """Pids whose whole command line is `text`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip() == text:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def run_cli(*args, timeout=20):
    return subprocess.run([PSSST, *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
