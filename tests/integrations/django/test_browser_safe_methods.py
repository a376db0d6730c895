"""The 405 page a GET of a transaction view answers (a link preview, a crawler, a user who
followed a link) in chromium: no serious or critical axe violation, English and Arabic, at
375 and 1280 px, and no code sent."""

from __future__ import annotations

import pytest
from django.test import override_settings

from otpgate.core.i18n import SHIPPED

from .test_browser import browser, page  # noqa: F401
from .test_browser_manage_flow import _audit, _signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_method_not_allowed_page(browser, live_server, sms_user, outbox, lang):  # noqa: F811
    base = live_server.url
    browser.clear_cookies()
    browser.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    every = override_settings(LANGUAGES=[(code.lower(), code) for code in SHIPPED])
    try:
        every.enable()
        _signed_in(tab, base, outbox)
        sent = len(outbox.messages)
        answer = tab.goto(base + "/standing-order/")
        assert answer is not None and answer.status == 405
        assert "POST" in (answer.headers.get("allow") or "")
        assert tab.locator("html").get_attribute("lang") == lang
        assert len(outbox.messages) == sent
        _audit(tab, f"method not allowed ({lang})")
    finally:
        every.disable()
        tab.close()
