"""Sphinx configuration of otpgate's documentation.

Build: ``sphinx-build -W --keep-going -n docs docs/_build/html`` (warnings, broken references
included, fail the build). Needs Graphviz's ``dot`` for the diagrams and an installed otpgate
(the configuration reference is generated from ``otpgate.core.settings``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from otpgate import __version__  # noqa: E402

project = "otpgate"
author = "otpgate developers"
copyright = "otpgate developers"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.graphviz", "otpgate_settings"]
exclude_patterns = ["_build", "quickstart/*.py"]
nitpicky = True
graphviz_output_format = "svg"
graphviz_dot_args = ["-Gfontname=sans-serif", "-Nfontname=sans-serif", "-Efontname=sans-serif"]
highlight_language = "python"
html_theme = "alabaster"
html_title = f"otpgate {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "A second factor for Python web apps", "fixed_sidebar": True}
