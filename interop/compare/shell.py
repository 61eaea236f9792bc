"""Running commands for the comparison: each is logged to stderr, and any
failure stops the whole run with FATAL (nothing is skipped silently)."""

import os
import shutil
import subprocess
import sys

from config import ROOT


def log(message):
    sys.stderr.write("[compare] %s\n" % message)
    sys.stderr.flush()


def die(message):
    sys.stderr.write("\n[compare] FATAL: %s\n" % message)
    sys.exit(1)


def run(cmd, cwd=ROOT, env=None, capture=False, timeout=None):
    """Runs cmd; dies loudly (with its output) if it fails."""
    shown = " ".join(cmd)
    log("$ " + shown)
    full_env = dict(os.environ, **(env or {}))
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, timeout=timeout, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        die("%s: %s" % (shown, err))
    if proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stdout or "")
            sys.stderr.write(proc.stderr or "")
        die("%s exited with %d" % (shown, proc.returncode))
    return proc.stdout if capture else None


def need(tool):
    if shutil.which(tool) is None:
        die("%s is not installed (needed for the benchmark)" % tool)
