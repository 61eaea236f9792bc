"""The type stubs (pssst/_pssst.pyi, pssst/aio.pyi) match the installed
package (mypy's stubtest), and type-check code that uses pssst.aio: the
README's example passes, a wrong call is caught."""

import subprocess
import sys

from test_readme import python_blocks


def mypy(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mypy", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


def test_stubs_match_the_runtime():
    result = subprocess.run([sys.executable, "-m", "mypy.stubtest", "pssst._pssst", "pssst.aio"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_asyncio_example_type_checks_and_a_wrong_call_does_not(tmp_path):
    example = [code for code in python_blocks() if "pssst.aio" in code]
    assert len(example) == 1, "README.md's python section has one pssst.aio example"
    (tmp_path / "example.py").write_text(example[0])
    (tmp_path / "wrong.py").write_text(
        "import asyncio\nimport pssst.aio\n\n"
        "async def main() -> None:\n"
        "    client = await pssst.aio.connect(('127.0.0.1', 1), 42, timeout='soon')\n"
        "    reply: str = await client.request(b'x')\n")
    flags = ["--cache-dir", str(tmp_path / "cache"), "--check-untyped-defs"]
    result = mypy(*flags, "example.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = mypy(*flags, "wrong.py", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    for mistake in ['wrong.py:5: error: Argument 2 to "connect" has incompatible type "int"',
                    'wrong.py:5: error: Argument "timeout" to "connect" has incompatible type "str"',
                    'wrong.py:6: error: Incompatible types in assignment (expression has type '
                    '"bytes", variable has type "str")']:
        assert mistake in result.stdout, result.stdout
