"""OTPGATE_BASE_TEMPLATE in chromium (issue 15): the second step, the manage page and the new
recovery codes render inside the site's layout (its navigation and sign-out stay visible and
keep their own look, otpgate's card keeps its styles), fit 375 and 1280 px without scrolling
sideways, and pass the axe-core audit in English and Arabic."""

from __future__ import annotations

import re

import pytest

from otpgate.core.i18n import SHIPPED
from tests import site_layout as layout
from tests.a11y import LANGUAGES

from . import test_browser as shared
from .conftest import PASSWORD, PHONE
from .test_site_layout import site

browser = shared.browser  # one chromium for this module, test_browser.py's
page = shared.page

pytestmark = pytest.mark.django_db(transaction=True)

ALL = [(language.lower(), language) for language in SHIPPED]


def check_page(tab, name: str, found: dict[str, str]) -> None:
    layout.check_page(tab, name, found, card=".otpgate-card")


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_inside_the_site_layout(page, live_server, sms_user, outbox, language):
    found: dict[str, str] = {}
    with site(LANGUAGES=ALL):
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        page.goto(live_server.url + "/accounts/login/?next=/2fa/")
        assert page.locator("html").get_attribute("lang") == language
        check_page(page, "sign-in", found)
        page.locator("#id_username").fill("alice")
        page.locator("#id_password").fill(PASSWORD)
        page.locator(".otpgate form button[type=submit]").first.click()
        page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
        if page.locator("button[value=send]").count():
            page.locator("button[value=send]").first.click()
        page.locator("#otpgate-code").wait_for()
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        check_page(page, "second step", found)
        page.locator("#otpgate-code").fill(outbox.last_code_for(PHONE))
        page.locator("#otpgate-code").press("Enter")
        page.wait_for_url(live_server.url + "/2fa/")
        check_page(page, "manage", found)
        page.goto(live_server.url + "/2fa/recovery/")
        page.locator("button[value=generate]").click()
        page.locator("#otpgate-codes").wait_for()
        check_page(page, "recovery codes", found)
        page.screenshot(path=f"/tmp/otpgate-django-site-layout-{language}.png", full_page=True)
    assert not found, "\n".join(f"{where}:\n{text}" for where, text in found.items())
