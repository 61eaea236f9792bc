"""Keys rotate without a signal: `pssst serve` notices that its key files and
allowlist changed on disk and reloads them (all or nothing, as SIGHUP does).
The files change exactly as the kubelet updates a mounted Secret: a new
timestamped directory, a `..data_tmp` symlink to it renamed over `..data`,
the old directory removed; each file is a symlink through `..data`.

The bound: the watcher checks every --watch-interval-ms (default 1000 ms),
so a change is in force within that interval plus one reload (reading two
small files). The test waits up to WITHIN_SECONDS (generous, for a loaded
machine) and prints what it measured."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from conftest import PSSST, exchange, run_cli
from wire import request

WITHIN_SECONDS = 10.0


def keygen(path: Path) -> bytes:
    out = run_cli("keygen", str(path))
    assert out.returncode == 0, out.stderr
    return bytes.fromhex(out.stdout.decode().strip())


class MountedSecret:
    """A directory laid out and updated as the kubelet does a Secret volume."""

    def __init__(self, root: Path, files: dict):
        self.root = root
        self.generation = 0
        root.mkdir()
        self.update(files)
        for name in files:
            (root / name).symlink_to(Path("..data") / name)

    def _write(self, files: dict):
        self.generation += 1
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.") + "%09d" % self.generation
        new = self.root / stamp
        new.mkdir()
        for name, content in files.items():
            (new / name).write_bytes(content)
            os.chmod(new / name, 0o600)
        return stamp

    def update(self, files: dict):
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        stamp = self._write(files)
        (self.root / "..data_tmp").symlink_to(stamp)
        os.rename(self.root / "..data_tmp", self.root / "..data")   # the atomic swap
        if old:
            subprocess.run(["rm", "-rf", str(self.root / old)], check=True)


def answered(addr, server_public, message, client_private=None, timeout=0.5):
    pending = request(server_public, message, client_private=client_private)
    reply = exchange(addr, pending.packet, timeout=timeout)
    return reply is not None and pending.open_reply(reply) == message


def test_a_kubelet_style_secret_update_rotates_keys_and_allowlist_under_load(tmp_path):
    """docs/operations.md's rotation with the files of a mounted Secret
    (deploy/k8s): current.key and next.key, both A; next.key becomes B and
    bob joins the allowlist under load from A's clients; then current.key
    becomes B and A is answered no more. No signal is ever sent."""
    keys = tmp_path / "made"
    keys.mkdir()
    publics = {name: keygen(keys / name) for name in ("a", "b", "alice", "bob")}
    private = {name: (keys / name).read_bytes() for name in publics}
    alice_only = publics["alice"].hex().encode() + b"\n"
    secret = MountedSecret(tmp_path / "secret", {
        "current.key": private["a"], "next.key": private["a"], "allowed": alice_only,
    })
    served = subprocess.Popen(
        [PSSST, "serve", "--key", str(secret.root / "current.key"),
         "--key", str(secret.root / "next.key"),
         "--authorized-keys", str(secret.root / "allowed"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = served.stdout.readline()
        m = re.search(r"listening on (\S+):(\d+) .*public key ([0-9a-f]{64})", line)
        assert m, line + served.stderr.read()
        addr = (m.group(1), int(m.group(2)))
        assert bytes.fromhex(m.group(3)) == publics["a"]
        alice = bytes.fromhex(private["alice"].decode().strip())
        bob = bytes.fromhex(private["bob"].decode().strip())
        assert answered(addr, publics["a"], b"before", alice, timeout=5)
        assert not answered(addr, publics["b"], b"not yet", alice)
        assert not answered(addr, publics["a"], b"bob not yet", bob)

        # A's clients keep going through the update.
        load = subprocess.Popen(
            [PSSST, "bench", "--server", "%s:%d" % addr, "--server-key", publics["a"].hex(),
             "--key", str(keys / "alice"), "--duration", "6", "--requests", "100000000",
             "--concurrency", "4"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)
        secret.update({
            "current.key": private["a"], "next.key": private["b"],
            "allowed": alice_only + publics["bob"].hex().encode() + b"\n",
        })
        swapped = time.monotonic()
        while not answered(addr, publics["b"], b"new key", alice, timeout=0.2):
            assert time.monotonic() - swapped < WITHIN_SECONDS, \
                f"key B not answered {WITHIN_SECONDS} s after the Secret update"
        took = time.monotonic() - swapped
        print(f"new key answered {took:.2f} s after the ..data swap (bound: 1 s interval + a reload)")
        out = load.communicate(timeout=120)[0]
        result = re.search(r"transactions\s+(\d+) ok, (\d+) failed", out)
        assert result, out
        assert int(result.group(2)) == 0 and int(result.group(1)) > 0, out
        assert answered(addr, publics["b"], b"bob is in", bob, timeout=5)

        # The old key goes: current.key becomes B too.
        secret.update({"current.key": private["b"], "next.key": private["b"],
                       "allowed": alice_only + publics["bob"].hex().encode() + b"\n"})
        swapped = time.monotonic()
        while answered(addr, publics["a"], b"old key", alice, timeout=0.2):
            assert time.monotonic() - swapped < WITHIN_SECONDS, \
                f"key A still answered {WITHIN_SECONDS} s after the Secret update"
        assert answered(addr, publics["b"], b"b only", alice, timeout=5)
    finally:
        served.send_signal(signal.SIGTERM)
        try:
            _, err = served.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            served.kill()
            raise
    assert err.count("reload failed") == 0, err
    assert err.count("reloaded") >= 2, err


def test_a_broken_update_keeps_the_keys_in_force_until_a_good_one(tmp_path):
    keys = tmp_path / "made"
    keys.mkdir()
    a, b = keygen(keys / "a"), keygen(keys / "b")
    secret = MountedSecret(tmp_path / "secret", {"server.key": (keys / "a").read_bytes()})
    served = subprocess.Popen(
        [PSSST, "serve", "--key", str(secret.root / "server.key"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        m = re.search(r"listening on (\S+):(\d+)", served.stdout.readline())
        addr = (m.group(1), int(m.group(2)))
        secret.update({"server.key": b"not a key\n"})
        deadline = time.monotonic() + WITHIN_SECONDS
        # Still key A, and it keeps being answered after the failed reload.
        time.sleep(2.5)
        assert answered(addr, a, b"old key holds", timeout=5)
        secret.update({"server.key": (keys / "b").read_bytes()})
        while not answered(addr, b, b"good update", timeout=0.2):
            assert time.monotonic() < deadline + 5, "the good update was never loaded"
    finally:
        served.send_signal(signal.SIGTERM)
        _, err = served.communicate(timeout=10)
    assert err.count("reload failed") == 1, err
