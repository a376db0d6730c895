"""OTPGATE_BASE_TEMPLATE in chromium (issue 15): the second step, the manage page and the new
recovery codes render inside the site's layout (its navigation and sign-out stay visible and
keep their own look, otpgate's card keeps its styles), fit 375 and 1280 px without scrolling
sideways, and pass the axe-core audit in English and Arabic."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.a11y import LANGUAGES, WIDTHS, describe, serious
from tests.browser import browser  # noqa: F401  (one chromium for this module)
from tests.integrations.flask.conftest import PASSWORD, Harness
from tests.integrations.flask.test_site_layout import site_app

#: The site's own look (acme/base.html) and otpgate's (otpgate/_style.html).
STYLES = """() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  return {
    nav: style("nav.acme-nav").backgroundColor,
    signOut: style("#acme-sign-out").backgroundColor,
    signOutVisible: document.querySelector("#acme-sign-out").getBoundingClientRect().width > 0,
    card: style(".otpgate").borderTopLeftRadius,
    cardBackground: style(".otpgate").backgroundColor,
    body: style("body").fontFamily,
    sideways: document.documentElement.scrollWidth > window.innerWidth,
  };
}"""


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
    """At each width: inside the site, styled, no sideways scrolling, no serious violation."""
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        shown = tab.evaluate(STYLES)
        assert shown["nav"] == "rgb(27, 27, 27)" and shown["signOutVisible"], (name, width)
        assert shown["signOut"] == "rgba(0, 0, 0, 0)", (name, width)  # the site's, not otpgate's
        assert shown["card"] == "12px" and shown["cardBackground"] == "rgb(255, 255, 255)"
        assert "Georgia" in shown["body"], (name, width)  # otpgate left the site's body alone
        assert not shown["sideways"], (name, width)
        bad = serious(tab)
        if bad:
            found[f"{name} at {width} px"] = describe(bad)


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
