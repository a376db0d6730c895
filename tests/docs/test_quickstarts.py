"""Every quick start in docs/ is short and runs: each page's code is a file under
docs/quickstart that the page includes, and each file runs against the real framework
(tests/docs/quickstart_runners.py, one process per framework). The PostgreSQL page runs on
the session's PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import importlib.util
import os
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
    "allauth": (
        "allauth.rst",
        ["quickstart/allauth_settings.py", "quickstart/allauth_urls.py"],
        ("django", "allauth"),
    ),
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
    "postgres": (
        "quickstart/postgres.rst",
        ["postgres_django.py", "postgres_sqlalchemy.py"],
        ("django", "psycopg", "asyncpg"),
    ),
}


def included(page: str) -> list[str]:
    return re.findall(r"^\.\. literalinclude:: (\S+)", (DOCS / page).read_text(), re.MULTILINE)


def test_each_page_shows_its_files_and_no_untested_code():
    shown = []
    for page, files, _ in PAGES.values():
        assert included(page) == files
        text = (DOCS / page).read_text()
        assert ".. code-block:: python" not in text and ":language: python" in text
        shown += [Path(f).name for f in files]
    assert sorted(shown) == sorted(p.name for p in (DOCS / "quickstart").glob("*.py"))
    every_page = "\n".join(p.read_text() for p in DOCS.rglob("*.rst"))
    assert every_page.count(".. literalinclude::") == len(shown)


@pytest.mark.parametrize("framework", PAGES)
def test_each_quick_start_is_at_most_30_lines(framework):
    page, files, _ = PAGES[framework]
    lines = sum(len(((DOCS / page).parent / f).read_text().splitlines()) for f in files)
    assert lines <= 30, f"{framework}: {lines} lines"


def run(framework: str, work: Path, env: dict[str, str] | None = None) -> None:
    for module in PAGES[framework][2]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: the docs tox env installs every extra")
    result = subprocess.run(
        [sys.executable, "-m", "tests.docs.quickstart_runners", framework, str(work)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("quick start ok")


def postgres_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """``PG*`` variables naming a new database of the session's server (the Django
    settings of the page read them), and ``DATABASE_URL`` another one (its SQLAlchemy code)."""
    cluster = request.getfixturevalue("postgres")
    return {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(cluster.port),
        "PGUSER": "otpgate",
        "PGDATABASE": cluster.create_database("mysite"),
        "DATABASE_URL": cluster.url(cluster.create_database("mysite")),
    }


@pytest.mark.parametrize("framework", PAGES)
def test_each_quick_start_runs(framework, tmp_path, request):
    run(framework, tmp_path, postgres_env(request) if framework == "postgres" else None)


def test_the_fastapi_quick_start_runs_on_postgres(tmp_path, postgres):
    """``OTPGATE_DATABASE_URL`` with asyncpg, as the PostgreSQL page says."""
    from sqlalchemy import create_engine, text

    database = postgres.create_database("fastapi")
    run("fastapi", tmp_path, {"OTPGATE_DATABASE_URL": postgres.url(database, "asyncpg")})
    assert not (tmp_path / "otpgate.db").exists()  # not the default SQLite file
    engine = create_engine(postgres.url(database))
    with engine.connect() as connection:
        phones = connection.execute(text("SELECT count(*) FROM otpgate_phone")).scalar_one()
    engine.dispose()
    assert phones == 1


def test_the_fastapi_command_line_counts_each_clients_own_address():
    """uvicorn trusts ``X-Forwarded-For`` from loopback by default: the quick start's command
    turns that off (or names the proxy), as its "Behind a proxy" section asks, so that no
    process on the host picks the address a per-IP send budget counts."""
    text = (DOCS / "quickstart/fastapi.rst").read_text()
    commands = re.findall(r"^\s+(uvicorn \S+:\S+.*)$", text, re.MULTILINE)  # "uvicorn app:app"
    assert commands, "no uvicorn command line"
    for command in commands:
        assert "--no-proxy-headers" in command or "--forwarded-allow-ips" in command, command
