"""End to end in chromium: a step-up completed by a phone call. The SMS is asked for, then
"Call me instead"; the code is read back out of the recorded call's text (digit by digit,
said twice) and typed in, at 375 px and at 1280 px."""

from __future__ import annotations

import re

import pytest

from otpgate import MemoryStore, OutboxVoiceSender, PhoneSender

from .conftest import PASSWORD, PHONE
from .test_browser import browser, page  # noqa: F401  (this module's own browser)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def calls(otpgate_runtime, outbox, clock) -> OutboxVoiceSender:
    calls = OutboxVoiceSender()
    otpgate_runtime.configure(
        clock=clock, sender=PhoneSender(outbox, calls), store=MemoryStore(clock=clock)
    )
    return calls


def fits(tab) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", [375, 1280])
def test_a_step_up_by_phone_call_in_the_browser(
    page,  # noqa: F811 - the fixture imported above
    live_server,
    calls,
    sms_user,
    outbox,
    clock,
    width,
):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/secret/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_label("Verification code").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/secret/")

    clock.advance(400)  # the step-up is stale: confirm it's you again
    page.goto(live_server.url + "/secret/")
    page.wait_for_url(re.compile(r".*/2fa/verify/\?next=.*"))
    assert page.locator("#otpgate-alternative-voice").count() == 0
    page.get_by_role("button", name="Send code").click()
    call_me = page.locator("#otpgate-alternative-voice")
    call_me.wait_for()
    assert "Call me instead" in call_me.inner_text() and fits(page)
    call_me.click()
    page.wait_for_selector("text=We are calling")
    assert "+33 ••• ••• 5678" in page.content() and PHONE not in page.content()
    assert page.get_by_role("status").inner_text() == "We are calling you now."
    assert fits(page)
    page.screenshot(path=f"/tmp/otpgate-django-voice-{width}.png", full_page=True)
    code = calls.last_code_for(PHONE)
    assert code is not None and len(calls.calls) == 1
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/secret/")
    assert "PROTECTED step-up" in page.content()
