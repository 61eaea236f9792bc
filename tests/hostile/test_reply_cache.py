"""Attack 2: flooding the reply cache with fresh valid requests, then
replaying a recorded one, must never yield a second, different reply under
the same key and nonce. Replies past the byte budget are evicted; a replay
of an evicted one gets nothing (never a second run), and new requests are
still answered."""

import os

from conftest import exchange, run_cli
from wire import request

VARYING = ["--exec", "date +%s%N"]


def test_cache_flood_then_replay_gets_identical_bytes_or_nothing(serve):
    # 8 KiB holds about 30 entries for these requests.
    served = serve(*VARYING, "--reply-cache-bytes", "8K", "--workers", "2")
    recorded = request(served.public, b"what time is it? " * 3)
    first = exchange(served.addr, recorded.packet, timeout=5)
    assert first is not None
    plain_first = recorded.open_reply(first)

    answered_fresh = 0
    for _ in range(120):
        fresh = request(served.public, b"what time is it? " * 3)
        if exchange(served.addr, fresh.packet, timeout=0.3) is not None:
            answered_fresh += 1
    # Bytes do not lock new requests out.
    assert answered_fresh >= 110, served.stats()

    for _ in range(5):
        again = exchange(served.addr, recorded.packet, timeout=2)
        assert again is None or again == first, (
            "a replay got different bytes under the same nonce: "
            f"{recorded.open_reply(again)!r} vs {plain_first!r}"
        )
    # Its reply was evicted by the 120 after it: forgotten, not run again.
    stats = served.stats()
    assert stats.get("reply_forgotten", 0) == 5, stats


def test_ttl_shorter_than_the_client_retry_window_is_refused(tmp_path):
    key = tmp_path / "k"
    run_cli("keygen", str(key))
    for ttl in ["0", "5", "11"]:
        result = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0",
                         "--exec", "cat", "--reply-cache-ttl", ttl, timeout=10)
        err = result.stderr.decode()
        assert result.returncode == 1, (ttl, err)
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "reply-cache-ttl" in err, err
