"""Gateways stay optional: the core never imports them, and a missing dependency names the
extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
sys.modules[{blocked!r}] = None  # as if it were not installed
import otpgate, otpgate.gateways, otpgate.inbox, otpgate.testing
try:
    import {module}
except ImportError as error:
    print(error)
"""


@pytest.mark.parametrize(
    ("blocked", "module", "extra"),
    [
        ("httpx", "otpgate.gateways.kannel", 'pip install "otpgate[gateways]"'),
        ("httpx", "otpgate.gateways.twilio", 'pip install "otpgate[gateways]"'),
        ("httpx", "otpgate.gateways.vonage", 'pip install "otpgate[gateways]"'),
        ("boto3", "otpgate.gateways.sns", 'pip install "otpgate[sns]"'),
    ],
)
def test_a_missing_dependency_names_its_extra(blocked, module, extra):
    probe = PROBE.format(blocked=blocked, module=module)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert extra in result.stdout


def test_the_core_imports_no_gateway_dependency():
    probe = "import sys, otpgate; print([m for m in ('httpx', 'boto3') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_gateway_names_load_lazily():
    import otpgate.gateways as gateways

    assert gateways.KannelSender.__name__ == "KannelSender"
    for name in gateways.__all__:
        assert getattr(gateways, name) is not None
    with pytest.raises(AttributeError):
        gateways.NoSuchSender  # noqa: B018
