"""scripts/screenshots.py, as the docs' pages gallery tells a reviewer to run it: every page
of the audit's tour at 375 and 1280 px, and an index that shows them."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("playwright")
for module in ("django", "flask", "flask_login", "fastapi", "uvicorn"):
    pytest.importorskip(module, reason='otpgate demo needs pip install "otpgate[demo]"')


def png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int(struct.unpack(">I", head[16:20])[0])


def test_the_script_shoots_every_page_at_both_widths(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pages = {
        "django-sign-in",
        "django-second-step-sms",
        "django-transaction-confirmation",
        "django-manage",
        "django-phone-remove",
        "django-phone-verify",
        "django-app-qr",
        "django-recovery-codes",
        "flask-second-step-sms",
        "flask-transaction-confirmation",
        "flask-app-qr",
        "flask-phone-remove",
        "flask-recovery-codes",
        "django-error",
        "flask-error",
        "inbox",
    }
    for name in pages:
        for width in (375, 1280):
            assert png_width(tmp_path / f"en-{name}-{width}.png") == width, (name, width)
    index = (tmp_path / "index.html").read_text()
    assert all(f'src="en-{name}-375.png"' in index for name in pages)
    assert f"{len(list(tmp_path.glob('*.png')))} screenshots" in result.stdout
