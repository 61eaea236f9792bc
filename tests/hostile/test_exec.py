"""Attack 3: a command whose children outlive it must not block a worker
past --exec-timeout, nor leave orphans or zombies; a slow command delays no
other request; and commands running at once are bounded by --max-in-flight."""

import socket
import threading
import time

from conftest import children_of, exchange, processes_matching, zombies_named
from wire import request


def test_timeout_kills_the_whole_group_and_the_worker_moves_on(serve):
    marker = "sleep 15.0123"
    served = serve("--exec", f'case "$(cat)" in slow) {marker};; esac; echo fast',
                   "--exec-timeout", "1", "--workers", "1")
    slow = request(served.public, b"slow")
    assert exchange(served.addr, slow.packet, timeout=1.5) is None
    # The one worker must be free again well before the sleep would end.
    fast = request(served.public, b"fast-request-with-room")
    start = time.monotonic()
    reply = exchange(served.addr, fast.packet, timeout=6)
    waited = time.monotonic() - start
    assert reply is not None, f"no reply after {waited:.1f} s: the worker is still blocked"
    assert fast.open_reply(reply) == b"fast\n"
    # No process of the slow command survived, and nothing is left unreaped.
    time.sleep(0.3)
    assert processes_matching(marker) == [], "the command's child outlived the timeout"
    zombies = [c for c in children_of(served.pid) if c[1] == "Z"]
    assert zombies == [], zombies
    # Its orphaned child must not be left a zombie either (here PID 1 may
    # not reap: serve is the subreaper of its commands).
    assert zombies_named("sleep") == []
    assert served.stats().get("handler_timeout") == 1


def test_output_past_the_reply_limit_stops_the_command(serve):
    served = serve("--exec", "yes", "--exec-timeout", "10", "--workers", "1")
    pending = request(served.public, b"x" * 100)
    assert exchange(served.addr, pending.packet, timeout=1) is None
    # Stopped at the limit, long before its timeout, and counted.
    assert processes_matching("yes") == []
    assert [c for c in children_of(served.pid)] == []
    assert served.stats().get("amplification", 0) == 1


def test_a_slow_command_does_not_delay_other_requests(serve):
    served = serve("--exec", 'case "$(cat)" in slow*) sleep 8;; esac; echo fast',
                   "--exec-timeout", "10", "--workers", "1")
    slow = request(served.public, b"slow-request-with-room")
    slow_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    slow_sock.sendto(slow.packet, served.addr)
    time.sleep(0.3)
    start = time.monotonic()
    fast = request(served.public, b"fast-request-with-room")
    reply = exchange(served.addr, fast.packet, timeout=6)
    waited = time.monotonic() - start
    # Generous (loaded machines fork slowly): anything under the slow
    # command's 8 s means it did not wait for it.
    assert reply is not None, f"no reply after {waited:.1f} s: it waited for the slow command"
    assert fast.open_reply(reply) == b"fast\n"
    slow_sock.settimeout(12)
    assert slow.open_reply(slow_sock.recvfrom(1 << 16)[0]) == b"fast\n"
    slow_sock.close()


def test_commands_running_at_once_are_bounded_by_max_in_flight(serve):
    marker = "sleep 1.0456"
    served = serve("--exec", f"{marker}; echo done", "--exec-timeout", "3", "--workers", "1",
                   "--max-in-flight", "2")
    packets = [request(served.public, b"slow request %d" % i).packet for i in range(12)]
    threads = [threading.Thread(target=exchange, args=(served.addr, p, 4)) for p in packets]
    for t in threads:
        t.start()
    most = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        most = max(most, len(processes_matching(marker)))
        time.sleep(0.02)
    for t in threads:
        t.join()
    assert most == 2, most
    assert served.stats().get("busy", 0) >= 1
