"""The wheel works outside the source tree: built from a copy of the project, installed with
its dependencies from the package index into a fresh venv (no system site-packages), then
used from a temporary directory: a small SMS flow, the command line, the terminal demo, and
`otpgate demo`'s message naming the extra when no framework is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

import otpgate
from otpgate.core.i18n import SHIPPED

ROOT = Path(__file__).resolve().parents[2]
FLOW = """
from otpgate import OutboxSender, Settings, Verifier, generate_secret_key
import otpgate, otpgate.inbox, otpgate.check, otpgate.demo.terminal

outbox = OutboxSender()
gate = Verifier(Settings(secret_keys=(generate_secret_key(),)), sender=outbox)
challenge = gate.start_sms("user-1", "+33612345678", purpose="enroll")
verification = gate.check(challenge.id, outbox.last_code_for("+33612345678"), subject="user-1")
print(verification.factor, verification.purpose, otpgate.__version__, otpgate.__file__)
"""


def run(*command: str | Path, cwd: Path, timeout: float = 300) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what the sdist would hold (no stray build files)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source, cwd=source)
    (built,) = out.glob("otpgate-*.whl")
    return built


def test_the_wheel_carries_templates_translations_scripts_and_types(wheel):
    assert wheel.name.startswith(f"otpgate-{otpgate.__version__}-py3-none-any")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "otpgate/py.typed",
        "otpgate/integrations/django/templates/otpgate/verify.html",
        "otpgate/integrations/django/locale/zh_Hans/LC_MESSAGES/django.mo",
        "otpgate/demo/django_site/templates/demo_site/home.html",
        "otpgate/demo/flask_bank/templates/transfer.html",
    ):
        assert needed in names, needed
    for language in SHIPPED[1:]:  # compiled catalogues: no compile step at install
        folder = language.replace("-", "_")
        assert f"otpgate/locale/{folder}/LC_MESSAGES/otpgate.mo" in names, language
        assert f"otpgate/integrations/django/locale/{folder}/LC_MESSAGES/django.mo" in names
    assert any(n.startswith("otpgate/integrations/flask/templates/") for n in names)
    assert any(n.startswith("otpgate/redis/scripts/") and n.endswith(".lua") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "examples/", "docs/"))]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {otpgate.__version__}" in text
    assert "Provides-Extra: demo" in text


def test_the_wheel_works_in_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bindir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "flow.py").write_text(textwrap.dedent(FLOW))

    factor, purpose, version, location = run(python, "flow.py", cwd=elsewhere).split()
    assert (factor, purpose, version) == ("sms", "enroll", otpgate.__version__)
    assert str(env_dir) in location and str(ROOT) not in location

    otpgate_cli = bindir / "otpgate"
    assert "demo" in run(otpgate_cli, "--help", cwd=elsewhere)
    assert "--framework" in run(otpgate_cli, "demo", "--help", cwd=elsewhere)
    walkthrough = run(otpgate_cli, "demo", "--terminal", "--auto", cwd=elsewhere)
    assert walkthrough.count("✓ verified") == 5

    no_frameworks = subprocess.run(
        [otpgate_cli, "demo"], cwd=elsewhere, capture_output=True, text=True, timeout=60
    )
    assert no_frameworks.returncode == 2
    assert 'pip install "otpgate[demo]"' in no_frameworks.stderr
    assert "the Django site needs Django" in no_frameworks.stderr
