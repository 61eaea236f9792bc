"""Shared fixtures: the vector files, the pypssst reference process, and a
rule that a skipped test fails the run (nothing here may be skipped)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = pathlib.Path(os.environ.get("REPO_ROOT", HERE.parent.parent))


def _vectors_dir():
    return pathlib.Path(os.environ.get("PSSST_VECTORS_DIR", REPO_ROOT / "tests" / "vectors"))


def load_vectors(name):
    path = _vectors_dir() / name
    # A missing vector file is a failure, never a skip.
    with open(path, encoding="utf-8") as f:
        return json.load(f)


KAT = load_vectors("suite1-kat.json")["cases"]
REJECT = load_vectors("suite1-reject.json")["cases"]
KAT_FF01 = load_vectors("suiteff01-kat.json")["cases"]
REJECT_FF01 = load_vectors("suiteff01-reject.json")["cases"]


class Reference:
    """The pypssst helper process (see pypssst_helper.py)."""

    def __init__(self, python):
        self._proc = subprocess.Popen(
            [python, str(HERE / "pypssst_helper.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def __call__(self, op, **kwargs):
        kwargs["op"] = op
        self._proc.stdin.write(json.dumps(kwargs) + "\n")
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("pypssst helper died")
        return json.loads(line)

    def close(self):
        self._proc.stdin.close()
        self._proc.wait(timeout=30)


@pytest.fixture(scope="session")
def reference():
    python = os.environ.get("PSSST_PYPSSST_PYTHON")
    if not python:
        pytest.fail("PSSST_PYPSSST_PYTHON is not set: it must name the python of a "
                    "venv with pssst==0.2.1 from PyPI (tests/legs/40-python.sh makes one)")
    ref = Reference(python)
    info = ref("info")
    assert info["version"] == "0.2.1" and not info["native"], info
    yield ref
    ref.close()


_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped:
        sys.stderr.write("\nFAIL: skipped tests are not allowed: {}\n".format(_skipped))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
