"""Recovery codes to keep, in chromium against the example bank: the page that shows new codes
offers them as a text file (a ``data:`` link: it works without JavaScript and under a strict
Content-Security-Policy), a Copy button that says "Copied" and a print view showing only the
codes; the codes never overlap, at 375 and 1280 px, in all twelve languages."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from otpgate.core.i18n import SHIPPED
from otpgate.integrations.flask.web import html_lang
from tests import browser as browsers
from tests.recovery_page import (
    assert_codes_apart,
    assert_sheet,
    codes_on_page,
    copy_sheet,
    download_sheet,
    printed,
)

from . import test_browser as shared

browser = shared.browser  # one chromium for this module
page = browsers.page
bank = shared.bank

CODES = ".codes li"
SHOTS = "/tmp/otpgate-flask-recovery-{}.png"
STRICT_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def with_strict_csp(page, base: str) -> None:
    """Serve otpgate's pages with ``STRICT_CSP`` (as a site setting one would)."""

    def strict(route):
        response = route.fetch(max_redirects=0)
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": STRICT_CSP},
        )

    page.route(re.compile(re.escape(base) + "/otp/.*"), strict)


def signed_in(page, base: str, outbox) -> None:
    shared.sign_in(page, base, outbox)
    page.locator("form[action$='/otp/verify/send'] button").first.click()
    page.locator("#otpgate-code").fill(outbox.last_code_for(shared.PHONE))
    page.locator("#otpgate-code").press("Enter")
    page.wait_for_url(base + "/")


def new_codes(page, base: str) -> dict:
    """From the management page, make new recovery codes; the POST's headers."""
    page.goto(base + "/otp/")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("form[action$='/otp/recovery'] button").click()
    page.locator(CODES).first.wait_for()
    return answer.value.all_headers()


def today() -> str:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc).date().isoformat()


def test_new_codes_download_copy_and_print_under_a_strict_csp(page, bank, tmp_path):
    base, outbox = bank
    with_strict_csp(page, base)
    signed_in(page, base, outbox)
    headers = new_codes(page, base)
    assert "no-store" in headers["cache-control"]  # the codes are in this answer only
    assert headers["content-security-policy"] == STRICT_CSP
    codes = codes_on_page(page, CODES)

    name, text = download_sheet(page, tmp_path)
    assert name == "demo-bank-recovery-codes.txt"
    assert_sheet(text, codes, brand="Demo Bank", account="alice", day=today())

    clipboard, status = copy_sheet(page, base)  # the script ran under the CSP
    assert clipboard == text
    assert status == "Copied"

    shown = printed(page, CODES, SHOTS.format("print"))
    assert shown["codes"] and not shown["h1"], shown
    assert shown["buttons"] == [], shown  # no button or link on paper
    assert shown["title"].split("\n") == [
        "Demo Bank recovery codes",
        "Account: alice",
        f"Created: {today()}",
    ], shown


def test_without_javascript_the_codes_still_download(page, bank, tmp_path):
    base, outbox = bank
    page.route(re.compile(r".*/recovery\.js$"), lambda route: route.abort())
    signed_in(page, base, outbox)
    new_codes(page, base)
    codes = codes_on_page(page, CODES)
    assert page.locator("[data-otpgate-copy]").is_hidden()
    assert page.locator("[data-otpgate-print]").is_hidden()
    _, text = download_sheet(page, tmp_path)
    assert codes == [line for line in text.split("\n") if line in codes]
    page.goto(base + "/otp/")  # shown once: nothing on the next page
    assert "data:text/plain" not in page.content()


def test_codes_never_overlap_in_any_language(page, bank):
    """Two codes to a row at 1280 px, one on a phone; each with its number in its own box,
    in every shipped language (their fonts differ)."""
    base, outbox = bank
    signed_in(page, base, outbox)
    for language in SHIPPED:
        page.context.add_cookies([{"name": "lang", "value": language, "url": base}])
        new_codes(page, base)
        assert page.locator("html").get_attribute("lang") == html_lang(language)
        for width, per_row in ((1280, 2), (375, 1)):
            page.set_viewport_size({"width": width, "height": 800})
            where = f"{language} at {width} px"
            assert assert_codes_apart(page, CODES, where) == per_row, where
            page.screenshot(path=SHOTS.format(f"{language}-{width}"), full_page=True)


def test_the_script_is_served_from_the_site_to_anyone(bank):
    """Like a static file: no session needed, typed, not sniffed."""
    from urllib.request import urlopen

    base, _ = bank
    with urlopen(base + "/otp/recovery.js") as script:
        assert script.status == 200
        assert script.headers["Content-Type"].startswith("text/javascript")
        assert script.headers["X-Content-Type-Options"] == "nosniff"
        assert b"data-otpgate-copy" in script.read()
