"""A real browser for end-to-end tests: Debian's chromium driven by Playwright.

Use it from a conftest with ``from tests.browser import browser, page  # noqa: F401``.
Playwright's own browser download cannot run here, so the fixture launches
``/usr/bin/chromium`` (``apt-get install chromium``) and fails loudly if it is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("OTPGATE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser per test module: Playwright's sync API keeps an event loop running while
    it is open, which would stop later asyncio tests, so it is closed after each module."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="en-US"
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (tab) with the browser's cookies cleared."""
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(30_000)  # CI runs every tox env at once on two cores
    yield page
    page.close()
