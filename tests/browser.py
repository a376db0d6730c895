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


_CODE_COLUMNS = """(items) => {
  const boxes = items.map(li => {
    const range = document.createRange(); range.selectNodeContents(li);
    const rects = [...range.getClientRects()];
    return {lines: new Set(rects.map(r => Math.round(r.top))).size, top: rects[0].top,
            left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right))};
  });
  let closest = Infinity;
  for (const a of boxes) for (const b of boxes)
    if (a !== b && Math.abs(a.top - b.top) < 2 && a.left < b.left)
      closest = Math.min(closest, b.left - a.right);
  const probe = document.createElement('span');
  probe.textContent = '10. ';
  items[0].appendChild(probe);
  const marker = probe.getBoundingClientRect().width;
  probe.remove();
  return {lines: Math.max(...boxes.map(b => b.lines)), count: boxes.length, closest, marker};
}"""


def code_columns(page: Any, selector: str) -> dict[str, Any]:
    """How the recovery codes matched by ``selector`` are laid out: ``count``, the most
    ``lines`` one takes, the ``closest`` gap (px) between codes side by side, and the width
    of a ``marker`` ("10. ") that must fit in that gap."""
    return dict(page.locator(selector).evaluate_all(_CODE_COLUMNS))
