"""A passkey at the sign-in step can remember the browser too (the box sits in the passkey's
form, which the script submits whole)."""

from __future__ import annotations

import re

import pytest

from .conftest import CSRF, PHONE, Harness, make_app, password_login
from .test_devices import device_cookie
from .test_passkeys import ORIGIN, options_on, with_passkey


@pytest.fixture
def site(clock, outbox) -> Harness:
    harness = make_app(
        clock,
        outbox,
        OTPGATE_WEBAUTHN_RP_ID="localhost",
        OTPGATE_WEBAUTHN_ORIGINS=ORIGIN,
        OTPGATE_REMEMBER_DEVICE=True,
    )
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def test_the_passkey_form_carries_the_box_and_remembers_the_browser(site):
    authenticator = with_passkey(site, "alice")
    client = site.client()
    password_login(client)
    page = client.get("/otp/verify").get_data(as_text=True)
    form = re.search(r"<form[^>]*data-otpgate-webauthn.*?</form>", page, re.S)
    assert form and 'name="remember_device"' in form.group(0)
    done = client.post(
        "/otp/verify",
        data={
            "csrf_token": CSRF,
            "method": "webauthn",
            "code": authenticator.get(options_on(page)),
            "remember_device": "1",
        },
    )
    assert done.status_code in (302, 303)
    device_cookie(done)
    client.post("/logout")
    again = password_login(client)
    assert again.status_code == 303 and "/otp/verify" not in again.headers["Location"]
    assert site.outbox.messages == []
