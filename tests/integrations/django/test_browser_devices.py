""" "Don't ask again on this device" in chromium against Django's live server: the ticked box
sets the signed device cookie; the next sign-in skips the second step (a step-up still
asks); the management page lists and forgets the device; a factor change and a password
change void it."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM

from .conftest import PASSWORD, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

BOX = "Don’t ask again on this device for 30 days"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """chromium for this module only (see test_browser.py: the ORM is used in the test
    thread between browser calls, so DJANGO_ALLOW_ASYNC_UNSAFE is set while it lives)."""
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
    from django.test import override_settings

    with override_settings(OTPGATE_REMEMBER_DEVICE=True):
        browser.clear_cookies()
        tab = browser.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        tab.close()


def password_step(page: Any, base: str, password: str = PASSWORD) -> None:
    page.goto(base + "/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def second_step(page: Any, outbox: Any, *, remember: bool) -> None:
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_label("Verification code").fill(outbox.last_code_for(PHONE))
    box = page.get_by_label(BOX)
    assert not box.is_checked()
    if remember:
        box.check()
    page.get_by_role("button", name="Verify").click()


def sign_out(browser: Any) -> None:
    """The session ends (its cookie gone); the device cookie stays, as after a sign-out."""
    browser.clear_cookies(name="sessionid")


def asks_again(page: Any, base: str, password: str = PASSWORD) -> bool:
    sign_out(page.context)
    password_step(page, base, password)
    page.wait_for_url(lambda url: url == base + "/" or "/2fa/verify/" in url)
    return "/2fa/verify/" in page.url


def remembered_sign_in(page: Any, live_server: Any, outbox: Any) -> str:
    base = live_server.url
    password_step(page, base)
    second_step(page, outbox, remember=True)
    page.wait_for_url(base + "/")
    return base


def test_a_remembered_browser_skips_the_sign_in_step_until_forgotten(
    page, live_server, sms_user, outbox
):
    base = remembered_sign_in(page, live_server, outbox)
    cookie = next(c for c in page.context.cookies() if c["name"] == "otpgate_device")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    sent = len(outbox.messages)

    sign_out(page.context)
    password_step(page, base)
    page.wait_for_url(base + "/")  # no second step, no code sent
    assert "PROTECTED home" in page.content()
    assert len(outbox.messages) == sent

    page.goto(base + "/secret/")  # a step-up still asks
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert page.get_by_role("heading", name="Confirm it’s you").is_visible()
    assert page.get_by_label(BOX).count() == 0

    page.goto(base + "/2fa/")
    section = page.get_by_role("region", name="Remembered devices")
    assert "Chrome on Linux" in section.inner_text()
    assert "127.0.0.0/24" in section.inner_text()
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path="/tmp/otpgate-django-devices-en.png", full_page=True)
    section.get_by_role("button", name="Forget Chrome on Linux").click()
    page.get_by_text("The device will be asked for a code again.").wait_for()
    assert page.locator("#otpgate-no-devices").is_visible()
    assert asks_again(page, base)


def test_a_factor_change_voids_the_remembered_browser(page, live_server, sms_user, outbox):
    base = remembered_sign_in(page, live_server, outbox)
    page.goto(base + "/2fa/recovery/")
    page.get_by_role("button", name="Make new recovery codes").click()  # a factor change
    page.get_by_role("link", name="I saved them").wait_for()
    assert asks_again(page, base)


def test_a_password_change_voids_the_remembered_browser(page, live_server, sms_user, outbox):
    base = remembered_sign_in(page, live_server, outbox)
    sms_user.set_password("a new password 2026")
    sms_user.save()
    assert asks_again(page, base, "a new password 2026")


def test_forget_all_needs_the_confirmation(page, live_server, sms_user, outbox):
    base = remembered_sign_in(page, live_server, outbox)
    page.goto(base + "/2fa/")
    page.get_by_role("button", name="Forget all devices").click()
    assert page.url == base + "/2fa/"  # the required box stopped the form
    page.get_by_label("Yes, ask every device for a code again").check()
    page.get_by_role("button", name="Forget all devices").click()
    page.get_by_text("Every device will be asked for a code again.").wait_for()
    assert asks_again(page, base)


def test_without_the_box_nothing_is_remembered(page, live_server, sms_user, outbox):
    base = live_server.url
    password_step(page, base)
    second_step(page, outbox, remember=False)
    page.wait_for_url(base + "/")
    assert all(c["name"] != "otpgate_device" for c in page.context.cookies())
    assert asks_again(page, base)
