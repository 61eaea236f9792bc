"""Issue 22, item 3: nothing an --exec command starts escapes serve. Its
descendants die and are reaped when it ends or times out, even those that
left its process group (setsid, as GNU timeout does), in a cgroup v2 of its
own and in the process-tree fallback alike; it sees only an allowlisted
environment; its stderr reaches the log as one escaped, bounded field."""

import json
import re
import socket
import threading
import time

import pytest

from conftest import children_of, exchange, processes_matching, run_cli
from wire import request

MODES = {"cgroup": "auto", "process-tree": "off"}


@pytest.fixture(params=list(MODES))
def contained(request, serve):
    """Starts serve with commands contained one way; checks it is that way
    (a cgroup test must not pass on the fallback)."""
    mode = request.param

    def start(*args):
        served = serve("--exec-cgroup", MODES[mode], *args)
        assert re.search(r"containment\W+" + re.escape(mode), served.stderr()), served.stderr()
        return served

    return start


def wait_until(condition, seconds):
    """Polls `condition` (generous: the machine may be loaded); its last value."""
    give_up = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < give_up:
        time.sleep(0.1)
    return value


def nothing_left(served, marker):
    return processes_matching(marker) == [] and children_of(served.pid) == []


def test_setsid_children_are_killed_and_reaped(contained):
    marker = "sleep 0.2345"
    served = contained("--exec", f"setsid {marker} & echo ok", "--workers", "1")
    for i in range(12):
        pending = request(served.public, b"request %d" % i)
        assert pending.open_reply(exchange(served.addr, pending.packet, timeout=10)) == b"ok\n"
    # Before: one zombie per request, under serve, for ever.
    assert wait_until(lambda: nothing_left(served, marker), 10), children_of(served.pid)


def test_the_timeout_kills_what_left_the_process_group(contained):
    # GNU timeout puts itself and its child in a process group of its own.
    marker = "sleep 20.0789"
    served = contained("--exec", f"timeout 30 {marker}; echo done", "--exec-timeout", "3")
    packets = [request(served.public, b"slow request %d" % i).packet for i in range(3)]
    threads = [threading.Thread(target=exchange, args=(served.addr, p, 4)) for p in packets]
    for t in threads:
        t.start()
    assert wait_until(lambda: processes_matching(marker), 3), "the commands did not start"
    for t in threads:
        t.join()
    # The sleeps would end by themselves after 20 s: gone long before.
    assert wait_until(lambda: nothing_left(served, marker), 8), processes_matching(marker)
    assert served.stats().get("handler_timeout") == 3


def test_nothing_a_command_started_outlives_serve(contained):
    marker = "sleep 60.0456"
    served = contained(
        "--exec", f"(setsid {marker} </dev/null >/dev/null 2>&1 &); echo ok", "--workers", "1"
    )
    pending = request(served.public, b"leave something behind")
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=10)) == b"ok\n"
    served.stop()
    assert wait_until(lambda: processes_matching(marker) == [], 5), processes_matching(marker)


def test_the_environment_is_an_allowlist(serve, monkeypatch):
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/pssst.service")
    monkeypatch.setenv("UNRELATED_SECRET", "hunter2")
    monkeypatch.setenv("PSSST_DEPLOYMENT", "blue")
    monkeypatch.setenv("LC_MESSAGES", "C")
    monkeypatch.setenv("EXTRA_NAME", "passed on")
    served = serve("--exec", "cat >/dev/null; env", "--exec-env", "EXTRA_NAME")
    pending = request(served.public, b"x" * 4000)  # room for the reply
    reply = pending.open_reply(exchange(served.addr, pending.packet, timeout=10)).decode()
    env = dict(line.split("=", 1) for line in reply.splitlines() if "=" in line)
    assert "hunter2" not in reply and "CREDENTIALS_DIRECTORY" not in env, env
    assert env["PATH"] and env["PSSST_DEPLOYMENT"] == "blue" and env["LC_MESSAGES"] == "C"
    assert env["EXTRA_NAME"] == "passed on" and env["PSSST_PEER"], env
    set_by_sh = {"PWD", "OLDPWD", "SHLVL", "_"}
    passed = re.compile(r"PATH|LANG|LANGUAGE|LC_\w+|PSSST_\w+|EXTRA_NAME")
    assert all(passed.fullmatch(name) or name in set_by_sh for name in env), sorted(env)


def json_log(served):
    """Every line of serve's stderr, each of which must be one JSON object."""
    raw = served.stderr()
    records = [json.loads(line) for line in raw.splitlines()]
    assert all(isinstance(r, dict) for r in records)
    return raw, records


def stderr_records(served, count):
    def logged():
        raw, records = json_log(served)
        found = [r for r in records if r["fields"].get("message") == "command wrote to stderr"]
        return (raw, records, found) if len(found) >= count else None

    return wait_until(logged, 10)


def test_command_stderr_cannot_forge_log_records(serve):
    served = serve("--exec", "cat >&2; echo ok", "--log-format", "json")
    forged = (b'{"timestamp":"2026-01-01T00:00:00Z","level":"ERROR",'
              b'"fields":{"message":"forged"}}\x1b[2J\x1b]0;owned\x07')
    pending = request(served.public, b"\n" + forged + b"\n")
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=10)) == b"ok\n"
    logged = stderr_records(served, 1)
    assert logged, served.stderr()
    raw, records, found = logged
    assert "\x1b" not in raw and "\x07" not in raw
    assert [r for r in records if r["level"] == "ERROR"] == []
    (record,) = found
    assert record["level"] == "WARN"
    assert "forged" in record["fields"]["stderr"] and "\\x1b[2J" in record["fields"]["stderr"]


def test_command_stderr_is_bounded_per_line_and_in_total(serve):
    served = serve("--exec", "cat >&2; echo ok", "--log-format", "json")
    long_line = b"L" * 3000
    many_lines = b"".join(b"line %03d " % i + b"m" * 90 + b"\n" for i in range(100))
    pending = request(served.public, long_line + b"\n" + many_lines)
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=10)) == b"ok\n"
    logged = stderr_records(served, 2)
    assert logged, served.stderr()
    _, records, found = logged
    first = found[0]["fields"]
    assert first["stderr"] == "L" * 512 and first["cut_bytes"] == 3000 - 512
    # 4 KiB in all: the long line's first 4 KiB... of which 512 shown, then
    # part of the rest; never all 100 lines.
    assert len(found) < 20, len(found)
    assert sum(len(r["fields"]["stderr"]) for r in found) <= 4096
    assert any("dropped_bytes" in r["fields"] for r in records)


@pytest.mark.parametrize("args", [
    ["--exec-cgroup", "relative/dir"],
    ["--exec-cgroup", "/nonexistent/pssst-cgroup"],
    ["--exec-env", "A=B"],
    ["--exec-env", ""],
], ids=" ".join)
def test_bad_containment_arguments_are_one_error_line(tmp_path, args):
    key = tmp_path / "k"
    run_cli("keygen", str(key))
    result = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0", "--exec", "cat", *args,
                     timeout=10)
    err = result.stderr.decode()
    assert result.returncode == 1 and err.startswith("error: ") and err.count("\n") == 1, err
    # Refused for its value, by a serve that knows the option.
    assert "unexpected argument" not in err and args[0] in err, err
