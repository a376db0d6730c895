"""End to end in Debian's chromium (Playwright) against a live server: password, then the
SMS code read from the outbox, then a protected page; the same with an authenticator app set
up in the browser (its QR code decoded from a screenshot) and a code computed from it."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, code_columns

from .conftest import PASSWORD, PHONE, make_user
from .helpers import totp_now

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/otpgate-django-verify-{}.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """tests/browser.py's chromium, for this module only.

    Playwright's sync API keeps an event loop running in the test thread, which Django's
    ORM takes for an async context; the tests here use the ORM in that thread only between
    browser calls, so DJANGO_ALLOW_ASYNC_UNSAFE is set for this module, and the browser is
    closed at its end so that no later test runs beside that loop.
    """
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="en-US"
            )
            yield context
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    tab.close()


def _sign_in(page, live_server, username: str, target: str = "/secret/") -> None:
    page.goto(live_server.url + target)
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))


def test_sms_code_in_the_browser(page, live_server, sms_user, outbox):
    _sign_in(page, live_server, "alice")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#otpgate-resend").is_disabled()  # the cooldown is shown
    assert "+33 ••• ••• 5678" in page.content() and PHONE not in page.content()
    page.screenshot(path=SHOTS.format("en"), full_page=True)
    code = outbox.last_code_for(PHONE)
    field = page.get_by_label("Verification code")
    assert field.get_attribute("autocomplete") == "one-time-code"
    field.fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/secret/")
    assert "PROTECTED step-up" in page.content()


def test_second_step_in_chinese(browser, live_server, sms_user, outbox):
    browser.clear_cookies()
    # The language a user picked (Django's language cookie) wins over the browser's.
    browser.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    tab = browser.new_page()
    try:
        tab.goto(live_server.url + "/accounts/login/")
        tab.locator("input[name=username]").fill("alice")
        tab.locator("input[name=password]").fill(PASSWORD)
        tab.locator("button[type=submit]").click()
        tab.wait_for_url(re.compile(r".*/2fa/verify/.*"))
        assert tab.locator("html").get_attribute("lang") == "zh-hans"
        assert "两步验证" in tab.content()
        tab.locator("#otpgate-code").fill(
            "000000" if outbox.last_code_for(PHONE) != "000000" else "111111"
        )
        tab.locator("button[value=verify]").click()
        tab.wait_for_selector(".otpgate-error")
        assert "验证码不正确" in tab.content()
        tab.screenshot(path=SHOTS.format("zh"), full_page=True)
    finally:
        tab.close()
        browser.clear_cookies()


def _qr_uri(page) -> str | None:
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # pragma: no cover - tox installs zxing-cpp and pillow
        return None
    shot = page.locator(".otpgate-qr svg").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert found, "the QR code on the page could not be decoded"
    return found[0].text


def test_authenticator_app_in_the_browser(page, live_server, clock):
    make_user("carol")
    page.goto(live_server.url + "/accounts/login/?next=/2fa/app/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url + "/2fa/app/")
    page.get_by_role("button", name="Start").click()
    key = page.locator("#otpgate-key").inner_text().replace(" ", "").strip()
    uri = _qr_uri(page)
    if uri is not None:
        assert f"secret={key}" in uri
    page.get_by_label("Code from the app").fill(totp_now(key, clock()))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(live_server.url + "/2fa/")
    assert "Remove the authenticator app" in page.content()
    page.context.clear_cookies()
    clock.advance(30)
    _sign_in(page, live_server, "carol")
    assert "authenticator app" in page.content()
    page.get_by_label("Verification code").fill(totp_now(key, clock()))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/secret/")
    assert "PROTECTED step-up" in page.content()


def test_fields_and_recovery_codes_hold_their_layout_on_a_phone(
    page, live_server, sms_user, outbox
):
    """The password field looks like the user name's; each recovery code stays on one line,
    with room for the next column's numbers (they used to overlap the codes)."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server.url + "/accounts/login/")
        name = page.get_by_label("Username").bounding_box()
        password = page.get_by_label("Password").bounding_box()
        assert (password["width"], password["height"]) == (name["width"], name["height"])
    _sign_in(page, live_server, "alice", target="/2fa/recovery/")
    page.get_by_label("Verification code").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/2fa/recovery/")
    page.get_by_role("button", name="Make new recovery codes").click()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        layout = code_columns(page, "#otpgate-codes li")
        assert layout["count"] == 10 and layout["lines"] == 1, layout
        assert layout["closest"] >= layout["marker"], layout  # "10. " fits between columns


def test_a_user_with_only_an_app_confirms_a_transfer_in_the_browser(
    page, live_server, gate, clock, outbox
):
    from .test_confirm_factors import with_app

    secret = with_app(gate, clock, make_user("dave"))
    _sign_in(page, live_server, "dave", target="/transfer/")
    page.get_by_label("Verification code").fill(totp_now(secret, clock()))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/transfer/")
    clock.advance(30)
    page.get_by_label("Amount").fill("250.00")
    page.get_by_label("Payee").fill("ACME")
    page.get_by_role("button", name="Transfer").click()
    page.get_by_text("EUR 250.00").wait_for()
    assert "authenticator app" in page.content()
    assert page.get_by_role("button", name="Cancel").is_visible()
    page.screenshot(path=SHOTS.format("confirm-app"), full_page=True)
    page.get_by_label("Verification code").fill(totp_now(secret, clock()))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("PROTECTED transferred 250.00 to ACME").wait_for()
    assert outbox.messages == []


def test_arabic_pages_run_right_to_left_on_a_phone_and_a_desktop(
    browser, live_server, sms_user, outbox
):
    """Arabic text runs right to left; the code field, the masked number and the page width
    do not: nothing overflows at 375 px."""
    from django.test import override_settings

    from otpgate.core.i18n import SHIPPED

    browser.clear_cookies()
    browser.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    tab = browser.new_page()
    try:
        with override_settings(LANGUAGES=[(code.lower(), code) for code in SHIPPED]):
            tab.goto(live_server.url + "/accounts/login/")
            tab.locator("input[name=username]").fill("alice")
            tab.locator("input[name=password]").fill(PASSWORD)
            tab.locator("button[type=submit]").click()
            tab.wait_for_url(re.compile(r".*/2fa/verify/.*"))
            assert tab.locator("html").get_attribute("dir") == "rtl"
            assert "التحقق بخطوتين" in tab.content()
            for width in (1280, 375):
                tab.set_viewport_size({"width": width, "height": 800})
                layout = tab.evaluate(
                    """() => {
                      const code = document.querySelector('#otpgate-code');
                      const h1 = document.querySelector('h1').getBoundingClientRect();
                      const card = document.querySelector('h1').parentElement
                        .getBoundingClientRect();
                      return {
                        overflow: document.documentElement.scrollWidth
                          - document.documentElement.clientWidth,
                        page: getComputedStyle(document.body).direction,
                        code: getComputedStyle(code).direction,
                        phone: getComputedStyle(document.querySelector('.otpgate-phone'))
                          .direction,
                        gapRight: card.right - h1.right,
                        phoneReadsLeftToRight: (() => {
                          const text = document.querySelector('.otpgate-phone').firstChild;
                          const at = (i) => {
                            const range = document.createRange();
                            range.setStart(text, i);
                            range.setEnd(text, i + 1);
                            return range.getBoundingClientRect().left;
                          };
                          return at(0) < at(text.length - 1);  // "+33" before "5678"
                        })(),
                      };
                    }"""
                )
                assert layout["overflow"] <= 0, (width, layout)
                assert (layout["page"], layout["code"], layout["phone"]) == ("rtl", "ltr", "ltr")
                assert layout["gapRight"] < 50, (width, layout)  # the heading starts at the right
                assert layout["phoneReadsLeftToRight"], (width, layout)
                tab.screenshot(path=SHOTS.format(f"ar-{width}"), full_page=True)
    finally:
        tab.close()
        browser.clear_cookies()
