"""The docs build with Sphinx with every warning an error (broken references included), and
the configuration reference is generated from the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_build_without_a_warning(tmp_path):
    pytest.importorskip("sphinx", reason="the docs tox env installs Sphinx")
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot draws the diagrams: apt-get install graphviz")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         str(ROOT / "docs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "configuration.html").read_text()
    from otpgate import Settings

    for name in Settings.__dataclass_fields__:
        assert f"OTPGATE_{name.upper()}" in reference, name
    assert "6 – 10" in reference  # code_digits' bound, read from the validation
    security = (tmp_path / "security.html").read_text()
    assert security.count("graphviz-") >= 2  # the state machine and the login flow
    assert len(list((tmp_path / "_images").glob("graphviz-*.svg"))) >= 2
    for page in ("quickstart/django.html", "quickstart/flask.html", "quickstart/fastapi.html"):
        assert "highlight-python" in (tmp_path / page).read_text()
