"""Accessibility checks for the browser tests: axe-core (the npm package) run in the page.

axe-core is installed from the npm registry on first use into a cache directory
(``$OTPGATE_AXE_DIR``, default ``~/.cache/otpgate/axe-core``), never fetched from a CDN, and
evaluated in the page by Playwright. :func:`audit` fails on any violation of
impact "serious" or "critical" and prints each one readably (rule, help, the elements).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

#: The axe-core major version the audit runs.
AXE_SPEC = "axe-core@4"
#: Violations of these impacts fail the audit (axe's "minor" and "moderate" are reported only).
FAILING = ("serious", "critical")
#: Page widths audited and screenshotted: a phone and a laptop.
WIDTHS = (375, 1280)
#: Languages the audit runs in (Django codes; Flask and the inbox take their first subtag).
LANGUAGES = ("en", "ar")  # the two: English, and Arabic (right to left)
#: The rules axe checks: WCAG 2.x A and AA, and its best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_script() -> Path:
    """The path of axe.min.js, installing axe-core with npm into the cache on first use.

    The install goes to a fresh directory renamed into place, so that test environments
    running at once never see a half-written copy.
    """
    cache = Path(os.environ.get("OTPGATE_AXE_DIR", Path.home() / ".cache/otpgate/axe-core"))
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm not found: install Node.js (apt-get install npm) to run axe-core")
    cache.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="axe-", dir=cache.parent))
    done = subprocess.run(
        [npm, "install", "--prefix", str(work), "--no-save", "--no-audit", "--no-fund", AXE_SPEC],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"npm install {AXE_SPEC} failed:\n{done.stdout}{done.stderr}")
    try:
        work.rename(cache)
    except OSError:  # another environment installed it first
        shutil.rmtree(work, ignore_errors=True)
    assert script.is_file(), f"npm did not install {script}"
    return script


def violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now (axe injected if it is not yet)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not a <script> tag, so that a page's
        # Content-Security-Policy (the inbox's: default-src 'self') does not block it.
        page.evaluate(axe_script().read_text(encoding="utf-8") + "\n;0")
    return list(
        page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id,"
            " impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target,"
            " html: n.html, summary: n.failureSummary}))})))",
            TAGS,
        )
    )


def describe(found: list[dict[str, Any]]) -> str:
    """Violations as text a person reads: rule, impact, help, then each element."""
    lines = []
    for item in found:
        lines.append(f"- {item['id']} ({item['impact']}): {item['help']}")
        for node in item["nodes"][:5]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            for reason in (node["summary"] or "").splitlines()[1:3]:
                lines.append(f"      {reason.strip()}")
    return "\n".join(lines)


def serious(page: Any) -> list[dict[str, Any]]:
    """The violations of impact serious or critical on the page as it is now."""
    return [item for item in violations(page) if item["impact"] in FAILING]


def focus_ring(page: Any) -> dict[str, Any]:
    """The focused element and the outline or shadow that shows it has the focus."""
    return dict(
        page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name'),"
            " text: (e.innerText || e.value || '').trim().slice(0, 60),"
            " visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)"
            " || s.boxShadow !== 'none'}; }"
        )
    )


def tab_to(page: Any, predicate: Any, limit: int = 40, back: bool = False) -> dict[str, Any]:
    """Press Tab (Shift+Tab when ``back``) until ``predicate(focus_ring(page))`` holds; every
    element reached on the way must show a visible focus ring."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        ring = focus_ring(page)
        seen.append(ring)
        if ring["tag"] != "body":
            assert ring["visible"], f"no visible focus on {ring}"
        if predicate(ring):
            return ring
    raise AssertionError(f"never reached by Tab: {seen}")


def focused_id(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def focus_reaches(page: Any, element_id: str, timeout: float = 5000) -> str:
    """The focused element's id once it is ``element_id`` (autofocus applies a moment after
    the page loads), else whatever has the focus after ``timeout`` ms."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "id => document.activeElement && document.activeElement.id === id",
            arg=element_id,
            timeout=timeout,
        )
    return focused_id(page)


def assert_error_announced(page: Any, field: str) -> str:
    """After a refused code: the focus is on the field in error (``field``: its id), which is
    marked invalid and described by a live region holding the message. Returns the message."""
    assert focus_reaches(page, field) == field, focus_ring(page)
    state = page.evaluate(
        "(id) => { const f = document.getElementById(id);"
        " const described = (f.getAttribute('aria-describedby') || '').split(/\\s+/)"
        "   .map(d => document.getElementById(d)).filter(Boolean)"
        "   .filter(d => d.getAttribute('aria-live') || d.getAttribute('role') === 'alert');"
        " return {invalid: f.getAttribute('aria-invalid'),"
        "   message: described.map(d => d.innerText.trim()).join(' ')}; }",
        field,
    )
    assert state["invalid"] == "true", state
    assert state["message"], state
    return str(state["message"])


def press_on(page: Any, text: str, key: str = "Enter", back: bool = False) -> None:
    """Tab (or Shift+Tab) to the control whose text starts with ``text``, then press ``key``
    (Enter or Space) on it."""
    tab_to(page, lambda ring: ring["text"].startswith(text), back=back)
    page.keyboard.press(key)
