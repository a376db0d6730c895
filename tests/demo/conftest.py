"""A real browser for the demo's end-to-end tests (Debian's chromium)."""

from __future__ import annotations

from tests.browser import browser, page  # noqa: F401
