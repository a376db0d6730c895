"""Renaming a passkey in Django's management page, in chromium: each passkey's form, the
notice after renaming, and the page of a refused name pass axe-core (no serious or critical
violation) in English and Arabic (right to left), at 375 and 1280 px, without sideways
scrolling; the keyboard reaches the form and renames."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.a11y import WIDTHS, describe, serious
from tests.passkey_authenticator import SoftAuthenticator

from .conftest import PHONE, full_login, make_user
from .test_passkeys_browser import browser, passkeys_on  # noqa: F401  (one chromium)

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "Passkey of the shared family tablet in the kitchen near the door"  # 64 characters
LANGUAGES = [("en", "English"), ("ar", "العربية")]


@pytest.fixture
def site(live_server, otpgate_runtime) -> Iterator[str]:
    with override_settings(LANGUAGES=LANGUAGES), passkeys_on(otpgate_runtime, live_server.url):
        yield str(live_server.url)


@pytest.fixture
def page(browser) -> Iterator[Any]:  # noqa: F811
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    tab.close()


def with_passkey(gate: Any, subject: str, origin: str, name: str) -> None:
    setup = gate.setup(subject, "webauthn", name=name, label=subject)
    answer = SoftAuthenticator(origin).create(setup.challenge.browser_options)
    gate.verify(subject, "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)


def audit(page: Any) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"{page.url} at {width} px:\n{describe(found)}"
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{page.url} scrolls sideways by {wide} px at {width} px"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_renaming_a_passkey_passes_the_audit(page, site, gate, outbox, language):
    assert len(LONG) == 64
    user = make_user("rena")
    subject = str(user.pk)
    gate.credentials.add_phone(subject, PHONE)
    with_passkey(gate, subject, site, "Laptop")
    with_passkey(gate, subject, site, LONG)
    client = Client()  # the second step through the test client; the browser takes its session
    full_login(client, outbox, "rena")
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}]
    )
    page.route(  # the browser's own Accept-Language (en-US) replaced by the one tested
        "**/*",
        lambda route: route.continue_(
            headers={**route.request.headers, "accept-language": language}
        ),
    )
    page.goto(site + "/2fa/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("form.otpgate-rename").count() == 2
    audit(page)
    field = page.locator("form.otpgate-rename input[name=name]").first
    field.fill("Work laptop")
    field.press("Enter")  # the keyboard alone renames
    page.wait_for_url(site + "/2fa/")
    assert page.locator("#otpgate-status .otpgate-success").is_visible()
    assert [key.name for key in gate.passkeys.list(subject)] == ["Work laptop", LONG]
    audit(page)
    page.locator("form.otpgate-rename input[name=name]").first.fill("   ")  # passes "required"
    with page.expect_navigation():
        page.locator("form.otpgate-rename button").first.click()
    assert re.search(r"1.*64", page.locator("#otpgate-error").inner_text())
    assert page.locator("#otpgate-passkey-name").get_attribute("aria-invalid") == "true"
    if language == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    audit(page)
    assert [key.name for key in gate.passkeys.list(subject)] == ["Work laptop", LONG]
