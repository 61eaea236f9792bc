"""Attack 8: a second server on an address already served must not start
silently and take a share of the traffic."""

from conftest import exchange, run_cli
from wire import request


def test_second_server_on_a_served_address_is_refused(serve, tmp_path):
    first = serve("--workers", "2")
    other_key = tmp_path / "other.key"
    run_cli("keygen", str(other_key))
    host, port = first.addr
    result = run_cli("serve", "--key", str(other_key), "--listen", f"{host}:{port}",
                     "--workers", "2", timeout=5)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "another process serves it" in err
    # The first server still gets every request.
    for i in range(20):
        pending = request(first.public, b"still mine %d" % i)
        assert exchange(first.addr, pending.packet, timeout=2) is not None


def test_reuse_port_joins_a_deliberate_pool(serve):
    first = serve("--workers", "2", "--reuse-port")
    host, port = first.addr
    second = serve("--workers", "2", "--reuse-port", "--listen", f"{host}:{port}",
                   key_name="server.key")
    assert second.addr == first.addr
    # Same key: whichever process the kernel picks answers.
    for i in range(20):
        pending = request(first.public, b"pool member %d" % i)
        assert exchange(first.addr, pending.packet, timeout=2) is not None
