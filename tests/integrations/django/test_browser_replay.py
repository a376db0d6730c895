"""In Debian's chromium against a live server: a form posted to an ``@otp_required`` view of a
stale session is posted again, by the replay page's script, once the step-up passed; the view
runs once, with the original fields and this session's CSRF token."""

from __future__ import annotations

import re

import pytest

from tests.replay_form import post_form

from . import urls
from .conftest import PASSWORD, PHONE
from .test_browser import browser, page  # noqa: F401  (one browser for this module)

pytestmark = pytest.mark.django_db(transaction=True)

FORM = [("text", "hello"), ("tags", "a"), ("tags", "b"), ("submit", "Save")]


def test_stale_post_is_posted_again_after_step_up(page, live_server, sms_user, outbox, clock):  # noqa: F811
    urls.NOTES.clear()
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_label("Verification code").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/2fa/phone/add/")  # a page with a form
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    clock.advance(301)  # the step-up is stale now
    page.goto(base + "/")
    post_form(page, "/note/?tab=1", [*FORM, ("csrfmiddlewaretoken", token)])
    page.wait_for_url(re.compile(r".*/2fa/verify/\?next=.*"))
    assert urls.NOTES == []
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Verification code").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/note/?tab=1")  # the replay page's script posted the form
    assert page.locator("body").inner_text() == "PROTECTED noted hello"
    assert urls.NOTES == [FORM]
    urls.NOTES.clear()
