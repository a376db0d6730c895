"""Every quick start in docs/ is short and runs: each page's code is a file under
docs/quickstart that the page includes, and each file runs against the real framework
(tests/docs/quickstart_runners.py, one process per framework)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = {
    "core": ("quickstart/index.rst", ["core.py"], ()),
    "django": ("quickstart/django.rst", ["django_settings.py", "django_urls.py"], ("django",)),
    "drf": (
        "quickstart/drf.rst",
        ["drf_settings.py", "drf_urls.py"],
        ("django", "rest_framework"),
    ),
    "django-otp": (
        "quickstart/django-otp.rst",
        ["django_otp_settings.py", "django_otp_urls.py"],
        ("django", "django_otp"),
    ),
    "flask": ("quickstart/flask.rst", ["flask_app.py"], ("flask", "flask_login")),
    "fastapi": ("quickstart/fastapi.rst", ["fastapi_app.py"], ("fastapi", "aiosqlite")),
}


def included(page: str) -> list[str]:
    return re.findall(r"^\.\. literalinclude:: (\S+)", (DOCS / page).read_text(), re.MULTILINE)


def test_each_page_shows_its_files_and_no_untested_code():
    shown = []
    for page, files, _ in PAGES.values():
        assert included(page) == files
        text = (DOCS / page).read_text()
        assert ".. code-block:: python" not in text and ":language: python" in text
        shown += files
    assert sorted(shown) == sorted(p.name for p in (DOCS / "quickstart").glob("*.py"))
    every_page = "\n".join(p.read_text() for p in DOCS.rglob("*.rst"))
    assert every_page.count(".. literalinclude::") == len(shown)


@pytest.mark.parametrize("framework", PAGES)
def test_each_quick_start_is_under_30_lines(framework):
    _, files, _ = PAGES[framework]
    lines = sum(len((DOCS / "quickstart" / f).read_text().splitlines()) for f in files)
    assert lines < 30, f"{framework}: {lines} lines"


@pytest.mark.parametrize("framework", PAGES)
def test_each_quick_start_runs(framework, tmp_path):
    for module in PAGES[framework][2]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: the docs tox env installs every extra")
    result = subprocess.run(
        [sys.executable, "-m", "tests.docs.quickstart_runners", framework, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("quick start ok")
