"""Keyboard only, in chromium: Tab, Shift+Tab, Enter and Space (and typing into fields)
complete the second step by SMS and by app, and the enrollment of a phone and of an app.
Every control reached shows a visible focus ring; a refused code is announced (the field
keeps the focus, is marked invalid and is described by a live region with the message).
The step-up and replay pages, which the demo's tour (tests/demo/test_a11y.py) does not
reach, are audited by axe-core here."""

from __future__ import annotations

import re

import pytest

from tests.a11y import (
    WIDTHS,
    assert_error_announced,
    describe,
    focus_reaches,
    press_on,
    serious,
    tab_to,
)

from . import test_browser as shared
from .conftest import PASSWORD, PHONE, make_user
from .helpers import totp_now

browser = shared.browser  # one chromium for this module, test_browser.py's
page = shared.page

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, username: str, target: str) -> None:
    page.goto(live_server.url + "/accounts/login/?next=" + target)
    assert focus_reaches(page, "id_username") == "id_username"  # the first field has the focus
    page.keyboard.type(username)
    tab_to(page, lambda ring: ring["id"] == "id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_second_step_by_sms_with_the_keyboard(page, live_server, sms_user, outbox):
    sign_in(page, live_server, "alice", "/secret/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    if page.locator("button[value=send]").count():
        press_on(page, "Send code")
    page.locator("#otpgate-code").wait_for()
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    code = outbox.last_code_for(PHONE)
    page.keyboard.type(wrong(code))
    page.keyboard.press("Enter")
    page.locator(".otpgate-error").wait_for()
    assert "not correct" in assert_error_announced(page, "otpgate-code")
    page.keyboard.type(code)
    press_on(page, "Verify", key="Space")
    page.wait_for_url(live_server.url + "/secret/")
    assert "PROTECTED step-up" in page.content()


def test_second_step_by_app_with_the_keyboard(page, live_server, gate, clock):
    from .test_confirm_factors import with_app

    secret = with_app(gate, clock, make_user("dave"))
    sign_in(page, live_server, "dave", "/secret/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    page.keyboard.type(totp_now(secret, clock()))
    tab_to(page, lambda ring: ring["text"] == "Verify")
    tab_to(page, lambda ring: ring["id"] == "otpgate-code", back=True)  # Shift+Tab goes back
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/secret/")


def test_enrolling_a_phone_then_an_app_with_the_keyboard(page, live_server, outbox, clock):
    make_user("erin")
    sign_in(page, live_server, "erin", "/2fa/")
    page.wait_for_url(live_server.url + "/2fa/")
    press_on(page, "Add a phone number")
    page.wait_for_url(re.compile(r".*/2fa/phone/add/.*"))
    assert focus_reaches(page, "otpgate-phone") == "otpgate-phone"
    page.keyboard.type("+33 6 12 34 56 78")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/2fa/phone/verify/.*"))
    code = outbox.last_code_for(PHONE)
    page.keyboard.type(wrong(code))
    page.keyboard.press("Enter")
    page.locator(".otpgate-error").wait_for()
    assert_error_announced(page, "otpgate-code")
    page.keyboard.type(code)
    press_on(page, "Verify")
    page.wait_for_url(re.compile(r".*/2fa/$"))
    assert "+33 ••• ••• 5678" in page.content()

    press_on(page, "Set up an authenticator app")
    page.wait_for_url(re.compile(r".*/2fa/app/.*"))
    press_on(page, "Start", key="Space")
    page.locator("#otpgate-key").wait_for()
    key = page.locator("#otpgate-key").inner_text().replace(" ", "").strip()
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    page.keyboard.type(totp_now(key, clock()))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/2fa/$"))
    assert "Remove the authenticator app" in page.content()


def test_step_up_with_the_keyboard_on_a_page_without_serious_violation(
    page, live_server, sms_user, outbox, clock
):
    """The step-up page ("Confirm it's you") is not in the demo's tour: audited here."""
    sign_in(page, live_server, "alice", "/secret/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    if page.locator("button[value=send]").count():
        press_on(page, "Send code")
    page.locator("#otpgate-code").wait_for()
    page.keyboard.type(outbox.last_code_for(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/secret/")
    clock.advance(301)  # OTPGATE_STEP_UP_MAX_AGE = 300 s
    page.goto(live_server.url + "/secret/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert page.get_by_role("heading", name="Confirm it’s you").is_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"at {width} px:\n{describe(found)}"
    if page.locator("button[value=send]").count():
        press_on(page, "Send code", key="Space")
    page.locator("#otpgate-code").wait_for()
    assert focus_reaches(page, "otpgate-code") == "otpgate-code"
    page.keyboard.type(outbox.last_code_for(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/secret/")


POST_WITH_FILE = """(action) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action; form.enctype = "multipart/form-data";
  const token = document.createElement("input");
  token.type = "hidden"; token.name = "csrfmiddlewaretoken";
  token.value = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const text = document.createElement("input");
  text.type = "hidden"; text.name = "text"; text.value = "hi";
  const file = document.createElement("input");
  file.type = "file"; file.name = "attachment";
  const chosen = new DataTransfer(); chosen.items.add(new File(["secret"], "a.txt"));
  file.files = chosen.files;
  form.append(token, text, file); document.body.append(form);
  HTMLFormElement.prototype.submit.call(form);
}"""


def test_replay_page_asking_for_files_has_no_serious_violation(
    page, live_server, sms_user, outbox, clock
):
    sign_in(page, live_server, "alice", "/2fa/")
    page.locator("#otpgate-code").wait_for()
    page.keyboard.type(outbox.last_code_for(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/2fa/")
    clock.advance(301)  # the step-up is stale: the form is kept, its file is not
    with page.expect_navigation():
        page.evaluate(POST_WITH_FILE, "/note/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    if page.locator("button[value=send]").count():
        press_on(page, "Send code")
    page.locator("#otpgate-code").wait_for()
    page.keyboard.type(outbox.last_code_for(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/2fa/replay/.*"))
    assert page.locator("#otpgate-replay input[type=file]").count() == 1
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"at {width} px:\n{describe(found)}"


def test_management_page_in_chinese_has_no_serious_violation(
    browser, page, live_server, sms_user, outbox
):
    """A button's accessible name contains its visible text in Chinese too: Django's admin,
    listed before otpgate, translates "Remove" its own way, so the name is built from the
    same translated word."""
    browser.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    sign_in(page, live_server, "alice", "/2fa/")
    page.locator("#otpgate-code").wait_for()
    page.keyboard.type(outbox.last_code_for(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/2fa/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"at {width} px:\n{describe(found)}"
