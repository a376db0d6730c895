"""Issue 15 in chromium against a real Flask server: removing a factor goes through a
confirmation page (axe: no serious or critical violation, in English and Arabic, at 375 and
1280 px); cancelling keeps it; confirming removes it and the management page announces it
once (role="status")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import request
from werkzeug.serving import make_server

from otpgate import OutboxSender
from tests.a11y import WIDTHS, describe, serious
from tests.browser import browser  # noqa: F401  (one browser for this module)
from tests.conftest import PHONE

from .conftest import PASSWORD, Harness, make_app
from .test_browser_devices import SIGN_IN_PAGE, RealClock


@pytest.fixture
def site() -> Iterator[tuple[str, Harness]]:
    harness = make_app(RealClock(), OutboxSender())  # type: ignore[arg-type]
    app = harness.app

    @app.get("/signin")
    def signin() -> Any:
        return SIGN_IN_PAGE.format(next=request.args.get("next", "/otp/"))

    with app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", harness
    server.shutdown()
    thread.join(5)


def _audit(tab: Any, name: str) -> None:
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        bad = serious(tab)
        assert not bad, f"{name} at {width} px:\n{describe(bad)}"
    tab.set_viewport_size({"width": 1280, "height": 900})


def _phones(harness: Harness) -> tuple[str, ...]:
    with harness.app.app_context():
        return tuple(harness.gate.verifier.factors("alice").masked_phones)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_removing_a_phone_asks_first_then_announces_it(browser, site, lang):  # noqa: F811
    base, harness = site
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    # The browser's own Accept-Language (en-US) is replaced by the language tested.
    tab.route(
        "**/*",
        lambda route: route.continue_(headers={**route.request.headers, "accept-language": lang}),
    )
    try:
        tab.goto(f"{base}/signin?next=/otp/")
        tab.get_by_label("User name").fill("alice")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url("**/otp/verify*")
        tab.locator("form[action$='/otp/verify/send'] button").first.click()
        tab.locator("#otpgate-code").fill(harness.last_code())
        tab.locator("form[action$='/otp/verify'] button[type=submit]").click()
        tab.wait_for_url(f"{base}/otp/")
        remove = tab.locator("a[href*='/otp/phone/remove']")
        remove.click()
        tab.wait_for_url("**/otp/phone/remove?index=0")
        assert tab.locator("html").get_attribute("lang") == lang
        assert tab.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        assert tab.locator("#otpgate-removed").inner_text() == "+33 ••• ••• 5678"
        _audit(tab, f"phone removal confirmation ({lang})")
        tab.locator("#otpgate-keep").click()  # cancel: back, and the number stays
        tab.wait_for_url(f"{base}/otp/")
        assert _phones(harness) == ("+33 ••• ••• 5678",)
        remove.click()
        tab.locator("#otpgate-remove").click()
        tab.wait_for_url(f"{base}/otp/")
        notice = tab.locator("p.notice[role=status]")
        expected = "Phone number removed." if lang == "en" else "تمت إزالة رقم الهاتف."
        assert notice.inner_text().strip() == expected
        assert _phones(harness) == ()
        _audit(tab, f"management page with a notice ({lang})")
        tab.reload()
        assert tab.locator("p.notice[role=status]").count() == 0  # shown once
    finally:
        tab.close()
        browser.clear_cookies()
