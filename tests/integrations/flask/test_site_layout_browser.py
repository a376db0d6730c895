"""OTPGATE_BASE_TEMPLATE in chromium (issue 15): the second step, the manage page and the new
recovery codes render inside the site's layout (its navigation and sign-out stay visible and
keep their own look, otpgate's card keeps its styles), fit 375 and 1280 px without scrolling
sideways, and pass the axe-core audit in English and Arabic."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests import site_layout as layout
from tests.a11y import LANGUAGES
from tests.browser import browser  # noqa: F401  (one chromium for this module)
from tests.integrations.flask.conftest import PASSWORD, Harness
from tests.integrations.flask.test_site_layout import site_app


@pytest.fixture
def served(clock, outbox) -> Iterator[tuple[str, Harness]]:
    harness = site_app(clock, outbox)
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", harness
    server.shutdown()
    thread.join(5)


def check_page(tab, name: str, found: dict[str, str]) -> None:
    layout.check_page(tab, name, found, card=".otpgate")


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_inside_the_site_layout(page, served, language):
    base, harness = served
    found: dict[str, str] = {}
    # The site chooses the language (OtpGate(locale_selector=...)); chromium sends its own.
    harness.app.extensions["otpgate"].locale_selector = lambda: language
    signed = page.request.post(
        base + "/login", form={"username": "alice", "password": PASSWORD}, max_redirects=0
    )
    assert signed.status in (302, 303)
    page.goto(base + "/otp/verify")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    send = page.locator("form[action$='/verify/send'] button[type=submit]")
    if page.locator("#otpgate-code").count() == 0:
        send.first.click()
    page.locator("#otpgate-code").wait_for()
    check_page(page, "second step", found)
    page.locator("#otpgate-code").fill(harness.last_code())
    page.locator("#otpgate-code").press("Enter")
    page.wait_for_url(base + "/")
    page.goto(base + "/otp/")
    check_page(page, "manage", found)
    page.locator("form[action$='/otp/recovery'] button[type=submit]").click()
    page.locator("ol.codes").wait_for()
    check_page(page, "recovery codes", found)
    page.screenshot(path=f"/tmp/otpgate-flask-site-layout-{language}.png", full_page=True)
    assert not found, "\n".join(f"{where}:\n{text}" for where, text in found.items())
