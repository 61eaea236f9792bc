"""Attack 4: extreme arguments are refused when parsed (one `error:` line,
exit status 1), never a panic."""

import pytest

from conftest import run_cli

CASES = [
    ["serve", "--exec", "cat", "--exec-timeout", "1e19"],
    ["serve", "--exec", "cat", "--exec-timeout", "-1"],
    ["serve", "--exec", "cat", "--exec-timeout", "nan"],
    ["serve", "--exec", "cat", "--reply-cache-ttl", "1e19"],
    ["serve", "--exec", "cat", "--reply-cache-bytes", "99999999999999999999G"],
    ["serve", "--exec", "cat", "--exec-timeout", "70", "--reply-cache-ttl", "60"],
    ["serve", "--workers", "1000000"],
    ["bench", "--duration", "1e19"],
    ["bench", "--duration", "0"],
    ["bench", "--concurrency", "0"],
    ["bench", "--concurrency", "100000"],
    ["bench", "--requests", "0"],
    ["send", "--timeout-ms", "18446744073709551615", "hi"],
    ["send", "--retries", "4294967295", "hi"],
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_out_of_range_argument_is_one_error_line(tmp_path, args):
    key = tmp_path / "k"
    run_cli("keygen", str(key))
    public = run_cli("pubkey", str(key)).stdout.decode().strip()
    if args[0] == "serve":
        full = ["serve", "--key", str(key), "--listen", "127.0.0.1:0", *args[1:]]
    else:
        full = [args[0], "--server", "127.0.0.1:9", "--server-key", public, *args[1:]]
    result = run_cli(*full, timeout=10)
    err = result.stderr.decode()
    assert result.returncode == 1, (result.returncode, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "panicked" not in err
