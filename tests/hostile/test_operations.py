"""Operating `pssst serve`: Prometheus metrics (parsed with the official
`prometheus_client` parser), several keys, reload on SIGHUP (under load,
and with a bad file), the log filter and format, systemd credentials."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import PSSST, exchange, run_cli
from wire import request


def serve_with_metrics(serve, *args):
    served = serve("--metrics", "127.0.0.1:0", *args)
    return served


def metrics_url(served):
    line = served.first_line
    m = re.search(r"metrics (http://\S+/metrics)", line)
    assert m, line
    return m.group(1)


def scrape(served):
    asks = urllib.request.Request(metrics_url(served),
                                  headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(asks, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples, name, label=None):
    return sum(v for (n, labels), v in samples.items()
               if n == name and (label is None or label in labels))


def settled(served, received):
    """The metrics once the server has received `received` datagrams and
    ended each one (sent or unanswered, none in flight): a reply is counted
    just after it is sent, so a scrape right after the client has it can
    come first. After 30 s, the last scrape as it is."""
    give_up = time.monotonic() + 30
    while True:
        samples = scrape(served)
        got = samples[("pssst_requests_received_total", ())]
        ended = (total(samples, "pssst_replies_sent_total")
                 + total(samples, "pssst_requests_unanswered_total"))
        idle = samples[("pssst_in_flight", ())] == 0
        if (got >= received and ended == got and idle) or time.monotonic() > give_up:
            return samples
        time.sleep(0.01)


def keygen(path):
    out = run_cli("keygen", str(path))
    assert out.returncode == 0, out.stderr
    return bytes.fromhex(out.stdout.decode().strip())


def test_metrics_parse_and_the_counters_add_up_after_junk(serve):
    served = serve_with_metrics(serve)
    for i in range(5):
        pending = request(served.public, b"metric me %d" % i)
        assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5))
    junk = [b"", b"\x00\x00\x00\x01" + os.urandom(40),  # too short (twice)
            b"\x80\x00\x00\x01" + os.urandom(80),  # reply flag
            b"\x00\x00\x00\x07" + os.urandom(80),  # unknown suite
            b"\x00\x00\x00\x01" + os.urandom(80)]  # decrypt failure
    for packet in junk:
        assert exchange(served.addr, packet, timeout=0.2) is None
    samples = settled(served, 10)
    received = samples[("pssst_requests_received_total", ())]
    sent = total(samples, "pssst_replies_sent_total")
    unanswered = total(samples, "pssst_requests_unanswered_total")
    assert received == 10 and sent == 5, samples
    assert received == sent + unanswered, samples
    reasons = {dict(labels)["reason"]: v for (n, labels), v in samples.items()
               if n == "pssst_requests_unanswered_total"}
    assert reasons["too_short"] == 2 and reasons["reply_flag"] == 1, reasons
    assert reasons["unknown_suite"] == 1 and reasons["decrypt_failed"] == 1, reasons
    assert {"busy", "in_progress", "handler_timeout", "cache_full"} <= set(reasons)
    key_label = served.public.hex()[:8]
    assert samples[("pssst_replies_sent_total", (("key", key_label),))] == 5
    assert samples[("pssst_in_flight", ())] == 0
    assert samples[("pssst_handler_duration_seconds_count", ())] == 5
    assert samples[("pssst_handler_duration_seconds_bucket", (("le", "+Inf"),))] == 5


def test_the_metrics_endpoint_answers_only_get_metrics(serve):
    served = serve_with_metrics(serve)
    base = metrics_url(served).rsplit("/", 1)[0]
    for path, method, status in (("/other", "GET", 404), ("/metrics", "POST", 405)):
        req = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError(f"{method} {path} answered")
        except urllib.error.HTTPError as e:
            assert e.code == status


def test_two_keys_are_both_answered_and_counted_per_key(serve, tmp_path):
    second = tmp_path / "second.key"
    second_public = keygen(second)
    served = serve_with_metrics(serve, "--key", str(second))
    for key, n in ((served.public, 2), (second_public, 3)):
        for i in range(n):
            pending = request(key, b"to key %d" % i)
            assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5))
    samples = settled(served, 5)
    assert samples[("pssst_replies_sent_total", (("key", served.public.hex()[:8]),))] == 2
    assert samples[("pssst_replies_sent_total", (("key", second_public.hex()[:8]),))] == 3


def bench(served, key_hex, seconds, *extra):
    return subprocess.Popen(
        [PSSST, "bench", "--server", "%s:%d" % served.addr, "--server-key", key_hex,
         "--duration", str(seconds), "--requests", "100000000", "--concurrency", "4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def bench_result(proc):
    out = proc.communicate(timeout=120)[0]
    m = re.search(r"transactions\s+(\d+) ok, (\d+) failed", out)
    assert m, out
    return int(m.group(1)), int(m.group(2)), out


def test_sighup_reloads_keys_and_allowlist_under_load(serve, tmp_path):
    alice, bob = tmp_path / "alice.key", tmp_path / "bob.key"
    alice_public, bob_public = keygen(alice), keygen(bob)
    allow = tmp_path / "allowed"
    allow.write_text(alice_public.hex() + "\n")
    # SIGHUP only: the file watcher would reload on its own (test_rotation_watch.py).
    served = serve("--authorized-keys", str(allow), "--watch-interval-ms", "0")
    load = bench(served, served.public.hex(), 6, "--key", str(alice))
    time.sleep(1)
    # Reload again and again under load: bob is let in on the way.
    for i in range(5):
        if i == 2:
            allow.write_text(alice_public.hex() + "\n" + bob_public.hex() + "\n")
        served.proc.send_signal(signal.SIGHUP)
        wait_for_text(served, "reloaded", i + 1)
        time.sleep(0.3)
    ok, failed, out = bench_result(load)
    assert failed == 0 and ok > 0, out
    bobs = request(served.public, b"bob is in", client_private=private_of(bob))
    assert bobs.open_reply(exchange(served.addr, bobs.packet, timeout=5)) == b"bob is in"
    # The key replaced on disk: the new one is answered, the old one not.
    old_public = served.public
    new_public = keygen_force(served.key)
    served.proc.send_signal(signal.SIGHUP)
    wait_for_text(served, "reloaded", 6)
    fresh = request(new_public, b"new key", client_private=private_of(alice))
    assert fresh.open_reply(exchange(served.addr, fresh.packet, timeout=5)) == b"new key"
    stale = request(old_public, b"old key", client_private=private_of(alice))
    assert exchange(served.addr, stale.packet, timeout=0.5) is None


def private_of(path):
    return bytes.fromhex(path.read_text().strip())


def keygen_force(path):
    out = run_cli("keygen", "--force", str(path))
    assert out.returncode == 0, out.stderr
    return bytes.fromhex(out.stdout.decode().strip())


def wait_for_text(served, text, count, seconds=15):
    deadline = time.monotonic() + seconds
    while served.stderr().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.stderr().count(text) >= count, served.stderr()


def test_a_bad_file_on_reload_keeps_the_old_configuration(serve, tmp_path):
    served = serve("--watch-interval-ms", "0")   # SIGHUP only: one reload, one error
    served.key.write_text("this is not a key\n")
    served.proc.send_signal(signal.SIGHUP)
    wait_for_text(served, "reload failed", 1)
    errors = [line for line in served.stderr().splitlines() if "reload failed" in line]
    assert len(errors) == 1 and "ERROR" in errors[0], errors
    pending = request(served.public, b"still served")
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5)) == b"still served"
    assert served.proc.poll() is None


def start_with_env(tmp_path, env, *args):
    key = tmp_path / "log.key"
    if not key.exists():
        keygen(key)
    proc = subprocess.Popen([PSSST, "serve", "--key", str(key), "--listen", "127.0.0.1:0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **env))
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, first + out, err


def test_the_log_filter_and_format(tmp_path):
    code, _, err = start_with_env(tmp_path, {"RUST_LOG": "info"})
    assert code == 0 and "serving" in err and "stopped" in err, err
    assert len(err.splitlines()) == 2, err  # startup and shutdown, one line each
    code, _, err = start_with_env(tmp_path, {"RUST_LOG": "warn"})
    assert code == 0 and err == "", err
    code, _, err = start_with_env(tmp_path, {"RUST_LOG": "info"}, "--log-format", "json")
    events = [json.loads(line) for line in err.splitlines()]
    assert [e["fields"]["message"] for e in events] == ["serving", "stopped"], events
    assert all(e["level"] == "INFO" for e in events)
    code, _, err = start_with_env(tmp_path, {"RUST_LOG": "pssst=[[nonsense"})
    assert code == 1 and err.startswith("error: RUST_LOG"), err


def test_a_bare_key_name_is_read_from_the_credentials_directory(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    public = keygen(credentials / "server.key")
    proc = subprocess.Popen([PSSST, "serve", "--key", "server.key", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=dict(os.environ, CREDENTIALS_DIRECTORY=str(credentials)))
    try:
        line = proc.stdout.readline()
        assert public.hex() in line, line
    finally:
        proc.kill()
        proc.wait()


UNIT = Path(__file__).resolve().parents[2] / "crates" / "pssst-cli" / "systemd" / "pssst.service"


def unit_settings():
    settings = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_unit_is_hardened_and_verifies(tmp_path):
    settings = unit_settings()
    for key, value in (("DynamicUser", "yes"), ("NoNewPrivileges", "yes"),
                       ("ProtectSystem", "strict")):
        assert settings.get(key) == [value], (key, settings.get(key))
    assert settings["LoadCredential"] == ["server.key:/etc/pssst/server.key"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # systemd-analyze checks the unit as systemd would load it (with the
    # binary built here in place of /usr/local/bin/pssst). Any remark fails.
    unit = tmp_path / "pssst.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/pssst", PSSST))
    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked


def test_the_units_command_line_serves_from_its_credential(tmp_path):
    """ExecStart as written (ports made free), with the key where
    LoadCredential= puts it: it answers and serves metrics."""
    (exec_start,) = unit_settings()["ExecStart"]
    argv = exec_start.split()
    assert argv[0] == "/usr/local/bin/pssst" and "--key" in argv, argv
    argv[0] = PSSST
    argv[argv.index("--listen") + 1] = "127.0.0.1:0"
    argv[argv.index("--metrics") + 1] = "127.0.0.1:0"
    credentials = tmp_path / "creds"
    credentials.mkdir()
    public = keygen(credentials / argv[argv.index("--key") + 1])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd="/", env=dict(os.environ, CREDENTIALS_DIRECTORY=str(credentials)))
    try:
        line = proc.stdout.readline()
        m = re.search(r"listening on (\S+):(\d+) .*public key ([0-9a-f]{64}), metrics (\S+)", line)
        assert m and m.group(3) == public.hex(), line
        pending = request(public, b"from the unit")
        assert pending.open_reply(exchange((m.group(1), int(m.group(2))), pending.packet, timeout=5))
        with urllib.request.urlopen(m.group(4), timeout=5) as response:
            assert b"pssst_replies_sent_total" in response.read()
    finally:
        proc.kill()
        proc.wait()
