"""The Python quick-start in README.md runs as written."""

import re
import subprocess
import sys

from conftest import REPO_ROOT


def python_blocks():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- section: python -->(.*?)<!-- /section: python -->", text, re.S)
    assert section, "README.md has no python section"
    return re.findall(r"```python\n(.*?)```", section.group(1), re.S)


def test_readme_python_quick_start_runs():
    blocks = python_blocks()
    assert blocks, "the python section of README.md has no ```python block"
    for code in blocks:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
