"""The core never imports a web framework."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = ("django", "flask", "starlette", "fastapi", "redis")


@pytest.mark.parametrize("module", ["otpgate", "otpgate.core"])
def test_importing_the_core_imports_no_framework(module):
    probe = f"import sys, {module}; print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_api_is_sorted_and_complete():
    import otpgate

    assert otpgate.__all__ == sorted(otpgate.__all__)
    for name in otpgate.__all__:
        assert getattr(otpgate, name) is not None


def test_the_cli_makes_keys():
    result = subprocess.run(
        [sys.executable, "-m", "otpgate", "keygen"], capture_output=True, text=True, check=True
    )
    assert len(result.stdout.strip()) >= 40
