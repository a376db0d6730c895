"""End to end in chromium: a step-up completed by a phone call on the Flask pages. The SMS is
asked for, then "Call me instead"; the code is read back out of the recorded call's text and
typed in, at 375 px and at 1280 px."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from otpgate import OutboxSender, OutboxVoiceSender, PhoneSender
from tests.browser import browser  # noqa: F401  (one browser for this module)
from tests.conftest import PHONE, FakeClock
from tests.integrations.flask.conftest import PASSWORD, Harness, make_app


@pytest.fixture
def served() -> Iterator[tuple[str, Harness, OutboxSender, OutboxVoiceSender]]:
    outbox, calls = OutboxSender(), OutboxVoiceSender()
    harness = make_app(FakeClock(), PhoneSender(outbox, calls))
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", harness, outbox, calls
    server.shutdown()
    thread.join(5)


def fits(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", [375, 1280])
def test_a_step_up_by_phone_call_in_the_browser(page, served, width):
    base, harness, outbox, calls = served
    page.set_viewport_size({"width": width, "height": 800})
    signed = page.request.post(base + "/login", form={"username": "alice", "password": PASSWORD})
    assert signed.ok
    page.goto(base + "/otp/verify")
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the text message").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")

    harness.clock.advance(400)  # the step-up is stale: confirm it's you again
    page.goto(base + "/settings")
    page.wait_for_url("**/otp/verify?next=/settings")
    assert page.locator("#otpgate-alternative-voice").count() == 0
    page.get_by_role("button", name="Send code").click()
    call_me = page.locator("#otpgate-alternative-voice")
    call_me.wait_for()
    assert call_me.inner_text() == "Didn't get it? Call me instead" and fits(page)
    call_me.click()
    page.wait_for_selector("text=We are calling")
    assert PHONE not in page.content() and fits(page)
    assert page.get_by_role("button", name="Call again").is_disabled()  # the cooldown
    page.screenshot(path=f"/tmp/otpgate-flask-voice-{width}.png", full_page=True)
    code = calls.last_code_for(PHONE)
    assert code is not None and len(calls.calls) == 1
    page.get_by_label("Code from the phone call").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/settings")
    assert "sensitive settings" in page.content()
