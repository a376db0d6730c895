"""Passkeys in Debian's chromium against the live Django site, answered by Chromium's
virtual authenticator (CDP, tests/webauthn_browser.py): add one on the management page,
sign in with it, step up with it, confirm a transfer with it (the page shows what is
approved), remove it (a fresh second factor, then a confirmation step); and refused: an
answer from an origin the site does not list, an answer replayed, and an authenticator
whose counter went backwards (a cloned key)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import override_settings

from tests.a11y import WIDTHS, describe, serious
from tests.browser import ARGS, CHROMIUM
from tests.webauthn_browser import (
    VirtualAuthenticator,
    has_json_helpers,
    recorded_posts,
    without_json_helpers,
)

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/otpgate-django-passkey-{}.png"
REJECTED = "That passkey could not be verified."


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """tests/browser.py's chromium for this module only (see test_browser.py: Django's ORM
    is used in the test thread between browser calls, beside Playwright's event loop)."""
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


@contextmanager
def passkeys_on(runtime: Any, *origins: str) -> Iterator[None]:
    """Passkeys for relying party ``localhost`` asked for from ``origins``."""
    from django.test import override_settings

    with override_settings(OTPGATE_WEBAUTHN_RP_ID="localhost", OTPGATE_WEBAUTHN_ORIGINS=origins):
        runtime.reset()
        yield
    runtime.reset()


@pytest.fixture
def site(live_server, otpgate_runtime) -> Iterator[str]:
    """The live site with passkeys on: relying party ``localhost``, its own origin."""
    assert live_server.url.startswith("http://localhost:")
    with passkeys_on(otpgate_runtime, live_server.url):
        yield str(live_server.url)


@pytest.fixture
def tab(browser) -> Iterator[tuple[Any, VirtualAuthenticator]]:
    """A fresh tab with its own virtual authenticator (ctap2, internal, resident key, UV)."""
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(15_000)
    authenticator = VirtualAuthenticator(browser, page)
    yield page, authenticator
    authenticator.close()
    page.close()


@pytest.fixture
def events() -> Iterator[list[Any]]:
    from otpgate.integrations.django import signals

    seen: list[Any] = []

    def receive(sender: Any, event: Any, **kwargs: Any) -> None:
        seen.append(event)

    signals.otp_event.connect(receive, weak=False)
    yield seen
    signals.otp_event.disconnect(receive)


def sign_in(page: Any, base: str, username: str, target: str = "/secret/") -> None:
    page.goto(base + target)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def add_passkey(page: Any, base: str, name: str) -> None:
    page.goto(base + "/2fa/passkey/add/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Continue").click()
    # the page's script intercepts the button's submit: a click before it ran would post an
    # empty answer (a slow machine's race, not a user's: the script loads with the page)
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_url(base + "/2fa/")


def use_passkey(page: Any, name: str = "Use your passkey") -> None:
    page.get_by_role("button", name=name).click()


def fits(page: Any, name: str) -> None:
    """The page fits a phone (375 px) and a desktop (1280 px) with no sideways scrolling."""
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        page.screenshot(path=SHOTS.format(f"{name}-{width}"), full_page=True)


def passkey_user(page: Any, base: str, username: str) -> Any:
    """A user who signed in with a password only (no factor yet) and added a passkey."""
    user = make_user(username)
    sign_in(page, base, username, target="/")
    page.wait_for_url(base + "/")
    add_passkey(page, base, "Work laptop")
    page.context.clear_cookies()
    return user


def test_register_sign_in_step_up_confirm_and_remove(tab, site, clock, outbox, events):
    page, authenticator = tab
    make_user("pat")
    sign_in(page, site, "pat", target="/")
    page.wait_for_url(site + "/")

    # Add: named by the user, created by the authenticator, listed with its dates.
    page.goto(site + "/2fa/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")  # the script that intercepts the submit has run
    page.screenshot(path=SHOTS.format("create"), full_page=True)
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_url(site + "/2fa/")
    listing = page.locator("#otpgate-passkeys")
    assert "Work laptop" in listing.inner_text() and "Never used" in listing.inner_text()
    fits(page, "manage")
    stored = authenticator.only_credential()
    assert stored.rp_id == "localhost" and stored.resident
    assert [e.name.value for e in events if e.name.value == "factor_added"] == ["factor_added"]

    # Sign in: the passkey is the strongest factor, so the second step opens on it; no SMS.
    page.context.clear_cookies()
    sign_in(page, site, "pat")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_role("button", name="Use your passkey").wait_for()
    page.screenshot(path=SHOTS.format("verify"), full_page=True)
    use_passkey(page)
    page.wait_for_url(site + "/secret/")
    assert "PROTECTED step-up" in page.content()
    assert authenticator.only_credential().sign_count >= 2

    # Step-up: a page that wants a second factor within 60 s asks for the passkey again.
    clock.advance(120)
    page.goto(site + "/short/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_role("heading", name="Confirm it’s you").wait_for()
    use_passkey(page)
    page.wait_for_url(site + "/short/")
    assert "PROTECTED short step-up" in page.content()

    # Transaction: the page shows what is approved; the passkey approves exactly that.
    page.goto(site + "/transfer/")
    page.get_by_label("Amount").fill("250.00")
    page.get_by_label("Payee").fill("ACME")
    page.get_by_role("button", name="Transfer").click()
    page.get_by_text("EUR 250.00").wait_for()
    assert "approve them with your passkey" in page.content()
    page.screenshot(path=SHOTS.format("confirm"), full_page=True)
    use_passkey(page, "Approve with your passkey")
    page.get_by_text("PROTECTED transferred 250.00 to ACME").wait_for()
    assert outbox.messages == []

    # The list says when it was last used.
    page.goto(site + "/2fa/")
    assert "Last used" in page.locator("#otpgate-passkeys").inner_text()

    # Remove: a change of factors needs a fresh second factor, then a confirmation step.
    clock.advance(600)
    page.get_by_role("link", name="Remove Work laptop").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    page.wait_for_url(re.compile(r".*/2fa/passkey/.+/remove/$"))
    assert page.locator("#otpgate-removed").inner_text() == "Work laptop"
    fits(page, "remove")
    page.get_by_role("button", name="Remove “Work laptop”").click()
    page.wait_for_url(site + "/2fa/")
    assert "No passkey yet." in page.locator("#otpgate-passkeys").inner_text()
    assert "factor_removed" in [e.name.value for e in events]


def test_an_answer_from_an_origin_the_site_does_not_list_is_refused(tab, site, otpgate_runtime):
    """The relying party is right (localhost) but the page's origin is not one the site
    lists: the signature covers the origin, so the server refuses the answer."""
    page, _authenticator = tab
    passkey_user(page, site, "olga")
    with passkeys_on(otpgate_runtime, "http://localhost:1"):
        sign_in(page, site, "olga")
        page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
        use_passkey(page)
        page.get_by_text(REJECTED).wait_for()
        assert "/2fa/verify/" in page.url
        page.goto(site + "/secret/")
        assert "PROTECTED" not in page.content()  # not signed in


def test_a_replayed_answer_is_refused(tab, site, clock):
    """An answer recorded at one sign-in does not sign in again, and a transfer approved
    once is not executed again when its form and answer are posted again."""
    page, _authenticator = tab
    passkey_user(page, site, "rita")
    posts = recorded_posts(page, "/2fa/verify/")
    sign_in(page, site, "rita")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    page.wait_for_url(site + "/secret/")
    answer = dict(parse_qsl(posts[-1]["body"]))["code"]
    assert '"authenticatorData"' in answer

    page.context.clear_cookies()
    sign_in(page, site, "rita")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    form = page.locator("form[data-otpgate-webauthn]")
    form.locator("input[name=code]").evaluate("(field, value) => { field.value = value; }", answer)
    form.evaluate("form => form.submit()")
    page.get_by_text(REJECTED).wait_for()
    assert "PROTECTED" not in page.content()
    use_passkey(page)  # the page handed the browser a new challenge: that works
    page.wait_for_url(site + "/secret/")
    confirms = recorded_posts(page, "/transfer/")
    page.goto(site + "/transfer/")
    page.get_by_label("Amount").fill("99.00")
    page.get_by_label("Payee").fill("Mallory")
    page.get_by_role("button", name="Transfer").click()
    use_passkey(page, "Approve with your passkey")
    page.get_by_text("PROTECTED transferred 99.00 to Mallory").wait_for()
    approved = confirms[-1]
    assert "otp_code" in dict(parse_qsl(approved["body"]))
    again = page.request.post(
        approved["url"],
        data=urlencode(parse_qsl(approved["body"])),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": approved["url"],
        },
    )
    assert "PROTECTED transferred" not in again.text()
    assert again.status == 409


def test_a_counter_that_went_backwards_is_refused_and_reported(tab, site, events):
    page, authenticator = tab
    passkey_user(page, site, "carl")
    sign_in(page, site, "carl")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    page.wait_for_url(site + "/secret/")
    seen = authenticator.only_credential()
    assert seen.sign_count >= 2
    authenticator.set_sign_count(seen.credential_id, 0)  # a clone of an earlier state

    page.context.clear_cookies()
    sign_in(page, site, "carl")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    page.get_by_text(REJECTED).wait_for()
    assert "/2fa/verify/" in page.url
    assert "passkey_counter_regression" in [e.name.value for e in events]


def test_without_the_browser_json_helpers_the_script_falls_back(browser, site):
    """A browser without PublicKeyCredential.parse*FromJSON / toJSON: the first-party
    script converts base64url itself; adding and using a passkey work the same."""
    browser.clear_cookies()
    page = browser.new_page()
    page.add_init_script(without_json_helpers())
    authenticator = VirtualAuthenticator(browser, page)
    try:
        make_user("vera")
        sign_in(page, site, "vera", target="/")
        page.wait_for_url(site + "/")
        assert not has_json_helpers(page)
        add_passkey(page, site, "Old browser")
        page.context.clear_cookies()
        sign_in(page, site, "vera")
        page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
        use_passkey(page)
        page.wait_for_url(site + "/secret/")
    finally:
        authenticator.close()
        page.close()


def test_passkey_pages_fit_a_phone_and_a_desktop_and_speak_chinese(tab, site, browser):
    page, _authenticator = tab
    passkey_user(page, site, "wen")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        sign_in(page, site, "wen")
        page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
        found = page.get_by_role("button", name="Use your passkey")
        found.wait_for()
        button = found.bounding_box()
        assert button["x"] >= 0 and button["x"] + button["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=SHOTS.format(f"verify-{width}"), full_page=True)
        page.context.clear_cookies()
    browser.add_cookies([{"name": "django_language", "value": "zh-hans", "url": site}])
    sign_in_zh = page
    sign_in_zh.goto(site + "/accounts/login/?next=/secret/")
    sign_in_zh.locator("input[name=username]").fill("wen")
    sign_in_zh.locator("input[name=password]").fill(PASSWORD)
    sign_in_zh.locator("button[type=submit]").click()
    sign_in_zh.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    button = sign_in_zh.get_by_role("button", name="使用通行密钥")
    button.wait_for()
    sign_in_zh.screenshot(path=SHOTS.format("verify-zh"), full_page=True)
    button.focus()  # keyboard only: Enter on the focused button runs the ceremony
    sign_in_zh.keyboard.press("Enter")
    sign_in_zh.wait_for_url(site + "/secret/")


def test_a_passkey_the_device_lacks_says_so_and_the_button_stays(tab, site):
    """The browser finds no passkey for the site (another device): the page says so in
    its alert and the user can try again or choose another way; nothing is posted."""
    page, authenticator = tab
    passkey_user(page, site, "lin")
    authenticator.clear()
    posts = recorded_posts(page, "/2fa/verify/")
    sign_in(page, site, "lin")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    alert = page.get_by_role("alert").filter(has_text="The passkey was not used.")
    alert.wait_for()
    assert page.get_by_role("button", name="Use your passkey").is_enabled()
    assert [post for post in posts if "code=" in post["body"]] == []


def test_a_second_passkey_on_the_same_device_says_the_device_has_one(tab, site, gate):
    """The authenticator already holds a passkey of this account (excludeCredentials: the
    browser raises InvalidStateError): the page says so, not "try again", which never works."""
    page, authenticator = tab
    user = passkey_user(page, site, "ida")
    sign_in(page, site, "ida", target="/")
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    use_passkey(page)
    page.wait_for_url(site + "/")
    agent = page.evaluate("navigator.userAgent")
    with override_settings(LANGUAGES=[("en", "English"), ("ar", "العربية")]):
        for lang, said in [("en", "This device already has a passkey"), ("ar", "مفتاح مرور لهذا")]:
            authenticator.cdp.send(  # the page's language, as a user sets it
                "Network.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": lang}
            )
            page.goto(site + "/2fa/passkey/add/")
            page.locator("#otpgate-passkey-name").fill("Same laptop")
            page.locator("button[name=action][value=start]").click()
            page.locator("#otpgate-webauthn").click()
            alert = page.get_by_role("alert").filter(has_text=said)
            alert.wait_for()
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
            assert page.locator("#otpgate-webauthn-error").is_hidden()  # not "try again"
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                bad = serious(page)
                assert not bad, f"{lang} at {width} px:\n{describe(bad)}"
    assert len(authenticator.credentials()) == 1
    assert len(gate.passkeys.list(str(user.pk))) == 1
