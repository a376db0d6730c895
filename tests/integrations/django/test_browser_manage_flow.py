"""Issue 15 in chromium against Django's live server: removing a factor goes through a
confirmation page (axe: no serious or critical violation, in English and Arabic, at 375 and
1280 px); cancelling keeps it; confirming removes it and the management page announces it
once in its role="status" region."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import override_settings

from otpgate.core.i18n import SHIPPED
from tests.a11y import WIDTHS, describe, serious

from .conftest import PASSWORD, PHONE
from .test_browser import browser, page  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _audit(tab: Any, name: str) -> None:
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        bad = serious(tab)
        assert not bad, f"{name} at {width} px:\n{describe(bad)}"
    tab.set_viewport_size({"width": 1280, "height": 900})


def _signed_in(tab: Any, base: str, outbox: Any) -> None:
    tab.goto(base + "/2fa/")
    tab.locator("input[name=username]").fill("alice")
    tab.locator("input[name=password]").fill(PASSWORD)
    tab.locator("button[type=submit]").click()
    tab.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    tab.locator("#otpgate-code").fill(outbox.last_code_for(PHONE))
    tab.locator("button[value=verify]").click()
    tab.wait_for_url(base + "/2fa/")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_removing_a_phone_asks_first_then_announces_it(
    browser,  # noqa: F811
    live_server,
    sms_user,
    outbox,
    gate,
    lang,
):
    base = live_server.url
    browser.clear_cookies()
    browser.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    every = override_settings(LANGUAGES=[(code.lower(), code) for code in SHIPPED])
    try:
        every.enable()
        _signed_in(tab, base, outbox)
        remove = tab.locator("a[href*='/2fa/phone/'][href$='/remove/']")
        remove.click()
        tab.wait_for_url(re.compile(r".*/2fa/phone/\d+/remove/$"))
        assert tab.locator("html").get_attribute("lang") == lang
        assert tab.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        assert tab.locator("#otpgate-removed").inner_text() == "+33 ••• ••• 5678"
        _audit(tab, f"phone removal confirmation ({lang})")
        tab.locator("#otpgate-keep").click()  # cancel: back, and the number stays
        tab.wait_for_url(base + "/2fa/")
        assert gate.factors(str(sms_user.pk)).masked_phones == ("+33 ••• ••• 5678",)
        remove.click()
        tab.locator("#otpgate-remove").click()
        tab.wait_for_url(base + "/2fa/")
        status = tab.locator("#otpgate-status")
        assert status.get_attribute("role") == "status"
        expected = "Phone number removed." if lang == "en" else "تمت إزالة رقم الهاتف."
        assert status.inner_text().strip() == expected
        assert gate.factors(str(sms_user.pk)).masked_phones == ()
        _audit(tab, f"management page with a notice ({lang})")
        tab.reload()
        assert tab.locator("#otpgate-status").inner_text().strip() == ""  # shown once
    finally:
        every.disable()
        tab.close()
        browser.clear_cookies()
