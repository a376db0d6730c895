"""Renaming a passkey in Flask's management page, in chromium: each passkey's form, the
notice after renaming, and the page of a refused name pass axe-core (no serious or critical
violation) in English and Arabic (right to left), at 375 and 1280 px, without sideways
scrolling; the keyboard reaches the form and renames."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import browser as browsers
from tests.a11y import WIDTHS, describe, serious

from .conftest import PASSWORD, PHONE, Harness
from .test_passkey_rename import site  # noqa: F401  (the app with passkeys)
from .test_passkeys import keys, with_passkey

browser = browsers.browser  # one chromium for this module
page = browsers.page

LONG = "Passkey of the shared family tablet in the kitchen near the door"  # 64 characters


@pytest.fixture
def served(site: Harness) -> Iterator[str]:  # noqa: F811
    server = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def audit(page: Any) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"{page.url} at {width} px:\n{describe(found)}"
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        over = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth + 0.5).map(e => e.tagName + '.' + e.className + ' '"
            " + Math.round(e.getBoundingClientRect().right))"
        )
        assert wide <= 0, f"{page.url} scrolls sideways by {wide} px at {width} px: {over}"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_renaming_a_passkey_passes_the_audit(page, site, served, language):  # noqa: F811
    assert len(LONG) == 64
    with_passkey(site, "alice", "Laptop")
    with_passkey(site, "alice", LONG)
    page.route(  # the browser's own Accept-Language (en-US) replaced by the one tested
        "**/*",
        lambda route: route.continue_(
            headers={**route.request.headers, "accept-language": language}
        ),
    )
    page.request.post(served + "/login", form={"username": "alice", "password": PASSWORD})
    page.goto(served + "/otp/verify?method=sms")
    page.locator("form[action$='/otp/verify/send'] button").first.click()
    page.locator("#otpgate-code").fill(site.last_code(PHONE))
    page.locator("form[action$='/otp/verify'] button[type=submit]").click()
    page.goto(served + "/otp/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("form.rename").count() == 2
    audit(page)
    field = page.locator("form.rename input[name=name]").first
    field.fill("Work laptop")
    field.press("Enter")  # the keyboard alone renames
    page.wait_for_url(served + "/otp/")
    assert page.locator("#otpgate-status, .notice").first.is_visible()
    assert [key.name for key in keys(site, "alice")] == ["Work laptop", LONG]
    audit(page)
    field = page.locator("form.rename input[name=name]").first
    field.fill("   ")  # passes the browser's "required", refused by the core
    with page.expect_navigation():
        page.locator("form.rename button").first.click()
    assert re.search(r"1.*64", page.locator("#otpgate-error").inner_text())
    assert page.locator("#otpgate-passkey-name").get_attribute("aria-invalid") == "true"
    if language == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    audit(page)
    assert [key.name for key in keys(site, "alice")] == ["Work laptop", LONG]
