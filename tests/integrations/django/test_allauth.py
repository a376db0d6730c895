"""django-allauth with otpgate's second step: the allauth site's own tests (password and
social sign-in in chromium, the hand-off back to allauth, the system checks) run in a pytest
process of their own, with that site's settings (allauth_site/); here, what holds without it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

ROOT = Path(__file__).resolve().parents[3]
SITE = "tests.integrations.django.allauth_site.settings"


def test_the_allauth_site_passes_its_own_tests():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SITE}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfEs",
            "tests/integrations/django/allauth_site/flows.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 14, summary
    assert not re.search(r"skipped|xfail|deselected|error", summary), summary


def test_without_allauth_the_module_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "allauth.account.adapter", None)
    monkeypatch.delitem(sys.modules, "otpgate.integrations.django.allauth", raising=False)
    with pytest.raises(ImportError, match=r'pip install "otpgate\[allauth\]"'):
        import otpgate.integrations.django.allauth  # noqa: F401


def test_a_site_without_allauth_gets_no_allauth_check():
    found = {message.id for message in checks.run_checks(tags=["otpgate"])}
    assert not {"otpgate.W006", "otpgate.W007"} & found
