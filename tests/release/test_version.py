"""The version is written once (``otpgate.__version__``); the metadata, pyproject and the
changelog agree with it."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import otpgate

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_metadata_reads_the_version_from_the_package():
    assert importlib.metadata.version("otpgate") == otpgate.__version__


def test_pyproject_takes_the_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "otpgate.__version__"}


def test_the_version_is_pep_440_and_the_changelog_opens_with_it():
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", otpgate.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## (\S+)", changelog, flags=re.MULTILINE)
    assert first and first.group(1) == otpgate.__version__


def test_the_package_is_typed():
    assert (Path(otpgate.__file__).parent / "py.typed").exists()
