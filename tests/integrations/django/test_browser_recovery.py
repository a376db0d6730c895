"""Recovery codes to keep, in chromium against Django's live server: the page that shows new
codes offers them as a text file (a ``data:`` link: it works without JavaScript and under a
strict Content-Security-Policy), a Copy button that says "Copied" and a print view showing
only the codes; the codes never overlap, at 375 and 1280 px, in all twelve languages."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from otpgate.core.i18n import SHIPPED
from tests.recovery_page import (
    assert_codes_apart,
    assert_sheet,
    codes_on_page,
    copy_sheet,
    download_sheet,
    printed,
)

from . import test_browser as shared
from .conftest import PASSWORD, PHONE

browser = shared.browser  # chromium for this module (the ORM runs beside its event loop)
page = shared.page

pytestmark = pytest.mark.django_db(transaction=True)

CODES = "#otpgate-codes li"
SHOTS = "/tmp/otpgate-django-recovery-{}.png"
#: A site's strict policy: no inline script, scripts from the site itself only.
STRICT_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def with_strict_csp(page, live_server) -> None:
    """Serve otpgate's pages with ``STRICT_CSP`` (as a site setting one would)."""

    def strict(route):
        response = route.fetch(max_redirects=0)
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": STRICT_CSP},
        )

    page.route(re.compile(re.escape(live_server.url) + "/2fa/.*"), strict)


def new_codes(page, live_server, outbox) -> dict:
    """Sign alice in with her SMS code, then make new recovery codes; the POST's headers."""
    page.goto(live_server.url + "/2fa/recovery/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.locator("#otpgate-code").fill(outbox.last_code_for(PHONE))
    page.locator("#otpgate-code").press("Enter")
    page.wait_for_url(live_server.url + "/2fa/recovery/")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("button[value=generate]").click()
    page.locator(CODES).first.wait_for()
    return answer.value.all_headers()


def test_new_codes_download_copy_and_print_under_a_strict_csp(
    page, live_server, sms_user, outbox, clock, tmp_path
):
    with_strict_csp(page, live_server)
    headers = new_codes(page, live_server, outbox)
    assert "no-store" in headers["cache-control"]  # the codes are in this answer only
    assert headers["content-security-policy"] == STRICT_CSP
    codes = codes_on_page(page, CODES)
    day = datetime.fromtimestamp(clock(), tz=timezone.utc).date().isoformat()

    name, text = download_sheet(page, tmp_path)
    assert name == "acme-recovery-codes.txt"
    assert_sheet(text, codes, brand="Acme", account="alice@example.com", day=day)

    clipboard, status = copy_sheet(page, live_server.url)  # the script ran under the CSP
    assert clipboard == text
    assert status == "Copied"

    shown = printed(page, CODES, SHOTS.format("print"))
    assert shown["codes"] and not shown["h1"], shown
    assert shown["buttons"] == [], shown  # no button, link or notice on paper
    assert shown["title"].split("\n") == [
        "Acme recovery codes",
        "Account: alice@example.com",
        f"Created: {day}",
    ], shown
    assert page.get_by_role("button", name="Print").is_visible()


def test_without_javascript_the_codes_still_download(page, live_server, sms_user, outbox, tmp_path):
    """No script (blocked here): no Copy or Print button that would do nothing, but the
    Download link works, and nothing on the server kept the codes to serve it."""
    page.route(re.compile(r".*/recovery\.js$"), lambda route: route.abort())
    new_codes(page, live_server, outbox)
    codes = codes_on_page(page, CODES)
    assert page.locator("[data-otpgate-copy]").is_hidden()
    assert page.locator("[data-otpgate-print]").is_hidden()
    _, text = download_sheet(page, tmp_path)
    assert codes == [line for line in text.split("\n") if line in codes]
    page.goto(live_server.url + "/2fa/recovery/")  # seen once: a new visit shows none
    assert page.locator(CODES).count() == 0
    assert "data:text/plain" not in page.content()


def test_codes_never_overlap_in_any_language(browser, live_server, sms_user, outbox):
    """Two codes to a row at 1280 px, one on a phone; each with its number in its own box,
    in every shipped language (their fonts differ)."""
    from django.test import override_settings

    tab = browser.new_page()
    try:
        with override_settings(LANGUAGES=[(code.lower(), code) for code in SHIPPED]):
            new_codes(tab, live_server, outbox)
            for language in SHIPPED:
                browser.add_cookies(
                    [{"name": "django_language", "value": language.lower(), "url": live_server.url}]
                )
                tab.goto(live_server.url + "/2fa/recovery/")
                tab.locator("button[value=generate]").click()
                tab.locator(CODES).first.wait_for()
                assert tab.locator("html").get_attribute("lang") == language.lower()
                for width, per_row in ((1280, 2), (375, 1)):
                    tab.set_viewport_size({"width": width, "height": 800})
                    where = f"{language} at {width} px"
                    assert assert_codes_apart(tab, CODES, where) == per_row, where
                    tab.screenshot(path=SHOTS.format(f"{language}-{width}"), full_page=True)
    finally:
        tab.close()
        browser.clear_cookies()


def test_the_script_is_served_from_the_site_to_anyone(client):
    """Like a static file: no session needed, typed, not sniffed, cached an hour."""
    script = client.get("/2fa/recovery.js")
    assert script.status_code == 200
    assert script["Content-Type"] == "text/javascript; charset=utf-8"
    assert script["X-Content-Type-Options"] == "nosniff"
    assert b"data-otpgate-copy" in script.content


def test_a_refused_copy_says_how_to_copy_instead(page, live_server, sms_user, outbox):
    """The browser refuses the clipboard (a policy, a denied permission): the live region
    says so, never "Copied"."""
    page.add_init_script(
        "navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));"
    )
    new_codes(page, live_server, outbox)
    page.get_by_role("button", name="Copy").click()
    status = page.get_by_role("status").filter(has_text="copy")
    status.wait_for()
    assert status.inner_text() == "Could not copy: select the codes and copy them yourself."
