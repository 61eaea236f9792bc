"""Key files that are not what they should be: a FIFO at a key path (at
startup, and swapped in before a SIGHUP) must be refused at once, never
waited on, and must never delay shutdown; a private key that group or
others can read or write is refused with the file and its mode named, as
OpenSSH does, unless --allow-insecure-key-permissions."""

import os
import signal
import subprocess

from conftest import exchange, run_cli
from test_operations import wait_for_text
from wire import request


def test_a_fifo_at_the_key_path_is_refused_at_startup(tmp_path):
    fifo = tmp_path / "server.key"
    os.mkfifo(fifo)
    done = run_cli("serve", "--key", str(fifo), "--listen", "127.0.0.1:0", timeout=20)
    assert done.returncode == 1, done
    error = done.stderr.decode()
    assert str(fifo) in error and "not a regular file (a FIFO)" in error, error


def test_a_fifo_swapped_in_before_sighup_neither_hangs_the_reload_nor_delays_sigterm(serve):
    served = serve()
    served.key.unlink()
    os.mkfifo(served.key)
    served.proc.send_signal(signal.SIGHUP)
    wait_for_text(served, "reload failed", 1)
    assert "not a regular file (a FIFO)" in served.stderr()
    pending = request(served.public, b"still served")
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5)) == b"still served"
    served.proc.send_signal(signal.SIGTERM)
    try:
        served.proc.wait(15)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()
        raise AssertionError("serve did not stop on SIGTERM within 15 s of a reload")
    assert served.proc.returncode == 0


def test_a_private_key_open_to_others_is_refused_unless_allowed(serve, tmp_path):
    key = tmp_path / "open.key"
    public = run_cli("keygen", str(key)).stdout.decode().strip()
    for mode in (0o644, 0o640, 0o606):
        os.chmod(key, mode)
        done = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0", timeout=10)
        error = done.stderr.decode()
        assert done.returncode == 1, (oct(mode), done)
        assert f"key file {key} has mode {mode:04o}" in error, error
        assert "--allow-insecure-key-permissions" in error, error
    os.chmod(key, 0o644)
    served = serve("--allow-insecure-key-permissions", key_name="open.key")
    assert served.public.hex() == public
    pending = request(served.public, b"allowed")
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5)) == b"allowed"


def test_a_reload_refuses_a_key_that_became_readable_by_others(serve):
    served = serve()
    os.chmod(served.key, 0o644)
    served.proc.send_signal(signal.SIGHUP)
    wait_for_text(served, "reload failed", 1)
    assert f"key file {served.key} has mode 0644" in served.stderr()
    os.chmod(served.key, 0o600)
    served.proc.send_signal(signal.SIGHUP)
    wait_for_text(served, "reloaded", 1)
