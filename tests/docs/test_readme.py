"""The README's quick start runs as pasted, and its demo command works."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_quick_start_runs_as_pasted(tmp_path):
    (block,) = python_blocks()
    assert 12 <= len(block.strip().splitlines()) <= 30
    script = tmp_path / "quickstart.py"
    script.write_text(block)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["invalid_code 400", "sms login", "recovery"]


def test_the_first_command_is_the_demo_the_tests_drive():
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL).group(1)
    demo, tests = first_block.strip().splitlines()
    assert demo.startswith('pip install -e ".[demo]" && otpgate demo ')  # tests/demo runs it
    assert tests.startswith("bash scripts/test.sh ")


def test_the_demo_runs_on_embedded_defaults():
    result = subprocess.run(
        [sys.executable, "-m", "otpgate", "demo", "--terminal", "--auto"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("✓ verified") == 5
    assert "+33 ••• ••• 5678" in result.stdout
    assert "+33612345678" not in result.stdout


def test_the_cli_has_help():
    result = subprocess.run(
        [sys.executable, "-m", "otpgate", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout and "keygen" in result.stdout
