"""Builds and installs every leg's program before the rounds: the pssst-core
harness and the CLI for each backend, the Go test binary, and two venvs."""

import os
import shutil
import sys

from config import BACKENDS, BIN, CACHE, GO_TEST, HERE, ROOT, TARGET, cli, harness, venv_python
from shell import die, need, run


def make_venv(name):
    python = venv_python(name)
    if not os.access(python, os.X_OK):
        shutil.rmtree(os.path.join(CACHE, name), ignore_errors=True)
        run([sys.executable, "-m", "venv", os.path.join(CACHE, name)])
    return python


def has_aws_lc(binary):
    """Whether a Rust binary links AWS-LC's X25519 (its symbol names)."""
    with open(binary, "rb") as f:
        return b"_curve25519_x25519" in f.read()


def build_cli(backend, dest, source=ROOT, target=TARGET):
    """Builds the release `pssst` CLI with one X25519 backend from the
    checkout at source into the target directory, and copies it to dest."""
    cmd = ["cargo", "build", "--release", "--locked", "-p", "pssst-cli"]
    if backend == "x25519-dalek":
        cmd += ["--no-default-features"]
    else:
        cmd += ["--features", "aws-lc"]
    run(cmd, cwd=source, env={"CARGO_TARGET_DIR": target})
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(os.path.join(target, "release", "pssst"), dest)
    if has_aws_lc(dest) != (backend == "aws-lc"):
        die("%s was not built with the %s backend" % (dest, backend))


def build_compare_bin(backend, binary, dest):
    """Builds one binary of the pssst-compare crate with one X25519 backend
    and copies it to dest (each backend's build replaces the other's)."""
    cmd = ["cargo", "build", "--release", "--locked", "-p", "pssst-compare", "--bin", binary]
    if backend == "aws-lc":
        cmd += ["--features", "aws-lc"]
    run(cmd)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(os.path.join(TARGET, "release", binary), dest)
    return dest


def build_harness(backend):
    """The pssst-core harness for one backend, checked to report it."""
    dest = build_compare_bin(backend, "pssst-compare", harness(backend))
    got = run([dest, "--backend"], capture=True).strip()
    if got != backend:
        die("%s reports backend %r" % (dest, got))


def setup(args):
    for tool in ("cargo", "go"):
        need(tool)
    os.makedirs(BIN, exist_ok=True)
    os.makedirs(CACHE, exist_ok=True)

    # 1. pssst-core harness, once per backend (features differ: copy each).
    for backend in BACKENDS:
        build_harness(backend)

    # 2. gopssst v0.2.2, pinned by go.sum; `go test -c` once, run per round.
    go_env = {"GOFLAGS": "-mod=readonly -buildvcs=false"}
    go_dir = os.path.join(HERE, "go")
    run(["go", "version"])
    run(["go", "mod", "download"], cwd=go_dir, env=go_env)
    run(["go", "mod", "verify"], cwd=go_dir, env=go_env)
    run(["go", "vet", "./..."], cwd=go_dir, env=go_env)
    run(["go", "test", "-c", "-o", GO_TEST, "."], cwd=go_dir, env=go_env)

    # 3. pypssst 0.2.1 in its own venv.
    python = make_venv("venv-pypssst")
    run([python, "-m", "pip", "install", "-q", "-r",
         os.path.join(HERE, "python", "requirements-pypssst.txt")])
    run([python, "-c", "import importlib.metadata as m, importlib.util as u, pssst;"
         "assert m.version('pssst') == '0.2.1', m.version('pssst');"
         "assert u.find_spec('pssst._pssst') is None, 'not pypssst'"])

    # 4. pssst-py (pssst-rs's drop-in package), rebuilt from this checkout.
    python = make_venv("venv-pssst-py")
    if not args.keep_pssst_py:
        run([python, "-m", "pip", "uninstall", "-q", "-y", "pssst"])
        run([python, "-m", "pip", "install", "-q", ROOT])
    run([python, "-c", "import importlib.util as u, pssst;"
         "assert u.find_spec('pssst._pssst') is not None, 'not pssst-rs'"])

    # 5. The CLI for the UDP leg, with each backend (its default is aws-lc).
    # The default build comes last so target/release/pssst is left as the
    # rest of the workspace expects it.
    if not args.no_udp:
        for backend in ["x25519-dalek", "aws-lc"]:
            build_cli(backend, cli(backend))
    for backend in BACKENDS:
        if has_aws_lc(harness(backend)) != (backend == "aws-lc"):
            die("pssst-compare-%s was not built with the %s backend" % (backend, backend))


def check_built():
    """Dies unless every leg's program is there (for --no-setup)."""
    for path in [harness(b) for b in BACKENDS] + \
            [GO_TEST, venv_python("venv-pypssst"), venv_python("venv-pssst-py")]:
        if not os.access(path, os.X_OK):
            die("%s is missing: run without --no-setup" % path)
