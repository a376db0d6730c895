"""The example site: its checks pass, and run.py prepares the database and demo users."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SITE = Path(__file__).parents[3] / "examples" / "django_site"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DEMO_DATABASE"] = str(tmp_path / "demo.sqlite3")
    env["PYTHONPATH"] = str(SITE)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=SITE, timeout=60
    )


def test_example_site_checks_and_prepares(tmp_path):
    result = _run(tmp_path, "manage.py", "check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    probe = (
        "import os, run; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demo_site.settings');"
        "run.prepare(); run.prepare();"
        "from otpgate.integrations.django import get_verifier;"
        "from django.contrib.auth.models import User;"
        "alice = User.objects.get(username='alice');"
        "print(get_verifier().factors(str(alice.pk)).masked_phones)"
    )
    result = _run(tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert "+33 ••• ••• 5678" in result.stdout
