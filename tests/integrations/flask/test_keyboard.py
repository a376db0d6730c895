"""Keyboard only, in chromium, against the example bank: Tab, Shift+Tab, Enter and Space (and
typing into fields) complete the second step by SMS, and the enrollment of an app and of a
phone. Every control reached shows a visible focus ring; a refused code is announced (the
field keeps the focus, is marked invalid and is described by a live region)."""

from __future__ import annotations

import pyotp

from tests import browser as browsers
from tests.a11y import assert_error_announced, focus_reaches, press_on, tab_to

from . import test_browser as shared
from .test_browser import PHONE

browser = shared.browser  # one chromium for this module, test_browser.py's
page = browsers.page
bank = shared.bank


def sign_in(page, base: str, username: str, target: str = "/") -> None:
    page.goto(base + target)
    page.wait_for_url("**/login*")
    assert focus_reaches(page, "username") == "username"
    page.keyboard.type(username)
    tab_to(page, lambda ring: ring["id"] == "password")
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_second_step_by_sms_with_the_keyboard(page, bank):
    base, outbox = bank
    sign_in(page, base, "alice", "/transfer")
    page.wait_for_url("**/otp/verify*")
    press_on(page, "Send code", key="Space")
    page.wait_for_url("**/otp/verify?method=sms")
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    code = outbox.last_code_for(PHONE)
    page.keyboard.type(wrong(code))
    page.keyboard.press("Enter")
    page.locator("#otpgate-error:not(:empty)").wait_for()
    assert "not correct" in assert_error_announced(page, "otpgate-code")
    page.keyboard.type(code)
    tab_to(page, lambda ring: ring["text"] == "Verify")
    tab_to(page, lambda ring: ring["id"] == "otpgate-code", back=True)  # Shift+Tab goes back
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/transfer")


def test_enrolling_an_app_then_a_phone_with_the_keyboard(page, bank):
    base, outbox = bank
    sign_in(page, base, "bob")
    page.wait_for_url("**/otp/")
    press_on(page, "Set up an authenticator app", key="Space")
    page.locator("code.key").wait_for()
    totp = pyotp.TOTP(page.locator("code.key").inner_text().replace(" ", ""))
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    page.keyboard.type(wrong(totp.now()))
    page.keyboard.press("Enter")
    page.locator("#otpgate-error:not(:empty)").wait_for()
    assert_error_announced(page, "otpgate-code")
    page.keyboard.type(totp.now())
    page.keyboard.press("Enter")
    page.get_by_text("Authenticator app set up.").wait_for()

    press_on(page, "Add a phone number")
    page.wait_for_url("**/otp/phone")
    assert focus_reaches(page, "otpgate-phone") == "otpgate-phone"
    page.keyboard.type("+44 7400 123456")
    page.keyboard.press("Enter")
    page.locator("#otpgate-code").wait_for()
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    page.keyboard.type(outbox.last_code_for("+447400123456"))
    press_on(page, "Verify")
    page.wait_for_url("**/otp/")
    assert "+44\u00a0•••\u00a0•••\u00a03456" in page.locator("main").inner_text()


def test_a_code_typed_with_arabic_indic_digits_passes(page, bank):
    """A keyboard with other digits: the page's input takes them (its pattern is any decimal
    digit, the browser does not block the form) and the core reads them as the code."""
    base, outbox = bank
    sign_in(page, base, "alice", "/transfer")
    page.wait_for_url("**/otp/verify*")
    press_on(page, "Send code", key="Space")
    page.wait_for_url("**/otp/verify?method=sms")
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    code = outbox.last_code_for(PHONE)
    page.keyboard.type(code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
    assert page.evaluate("document.getElementById('otpgate-code').validity.valid")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/transfer")
