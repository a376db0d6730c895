"""Remembered devices through Flask's test client: the cookie's attributes, tampering, the
JSON second step, the management views' CSRF and confirmation, and the hook."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OTHER_PHONE, PHONE
from tests.integrations.flask.conftest import CSRF, PASSWORD, make_app, password_login

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def harness(clock, outbox) -> Any:
    h = make_app(clock, outbox, OTPGATE_REMEMBER_DEVICE=True)
    with h.app.app_context():
        h.gate.verifier.credentials.add_phone("alice", PHONE)
        h.gate.verifier.credentials.add_phone("carol", OTHER_PHONE)
    return h


def second_step(harness: Any, client: Any, *, remember: bool = True, **kwargs: Any) -> Any:
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    data = {"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    if remember:
        data["remember_device"] = "1"
    response = client.post("/otp/verify", data=data, headers={"User-Agent": FIREFOX}, **kwargs)
    with client.session_transaction() as session:  # signing in replaced the CSRF token
        session["_otpgate_csrf"] = CSRF
    return response


def device_cookie(response: Any) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("otpgate_device=")]
    assert len(found) == 1, response.headers
    return found[0]


def test_the_cookie_is_signed_httponly_lax_and_secure_over_https(harness):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    assert "ask again on this device for 30 days" in client.get("/otp/verify").text
    header = device_cookie(second_step(harness, client))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert "Max-Age=2592000" in header
    secure = harness.client()
    password_login(secure, base_url="https://localhost")
    header = device_cookie(second_step(harness, secure, base_url="https://localhost"))
    assert "Secure" in header


def test_a_remembered_sign_in_skips_the_step_but_never_a_step_up(harness):
    client = harness.client()
    password_login(client)
    second_step(harness, client)
    client.post("/logout")
    sent = len(harness.outbox.messages)
    answer = password_login(client)
    assert answer.status_code == 303 and "/otp/verify" not in answer.headers["Location"]
    assert client.get("/account").status_code == 200  # signed in with a second factor
    assert len(harness.outbox.messages) == sent
    assert "/otp/verify" in client.get("/settings").headers["Location"]  # fresh_otp asks


def test_a_tampered_or_foreign_cookie_is_not_honoured(harness):
    client = harness.client()
    password_login(client)
    value = device_cookie(second_step(harness, client)).split(";")[0].split("=", 1)[1]
    client.post("/logout")
    client.set_cookie("otpgate_device", value[:-2] + "xx")
    assert "/otp/verify" in password_login(client).headers["Location"]
    client.set_cookie("otpgate_device", value)
    assert "/otp/verify" in password_login(client, "carol").headers["Location"]


def test_the_json_second_step_remembers_when_asked(harness):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", json={}, headers={"X-CSRFToken": CSRF})
    body = {"method": "sms", "code": harness.last_code(), "remember_device": True}
    answer = client.post("/otp/verify", json=body, headers={"X-CSRFToken": CSRF})
    assert answer.status_code == 200 and answer.json["status"] == "verified"
    assert "HttpOnly" in device_cookie(answer)


def test_forgetting_needs_csrf_and_forget_all_a_confirmation(harness):
    client = harness.client()
    password_login(client)
    second_step(harness, client)
    with harness.app.app_context():
        devices = harness.gate.verifier.devices
        ref = devices.list("alice")[0].ref
        assert client.post("/otp/devices/revoke", data={"device": ref}).status_code == 403
        assert client.post("/otp/devices/revoke-all", data={"csrf_token": CSRF}).status_code == 400
        assert len(devices.list("alice")) == 1
        page = client.get("/otp/").text
        assert "Firefox on Linux" in page and "127.0.0.0/24" in page
        done = client.post("/otp/devices/revoke-all", data={"csrf_token": CSRF, "confirm": "1"})
        assert done.status_code == 303 and devices.list("alice") == []


def test_forget_devices_hook(harness):
    client = harness.client()
    password_login(client)
    second_step(harness, client)
    client.post("/logout")
    with harness.app.test_request_context():
        assert harness.gate.forget_devices("alice") == 1
    assert "/otp/verify" in password_login(client).headers["Location"]


def test_the_missing_confirmation_is_said_in_the_users_language(harness):
    client = harness.client()
    password_login(client)
    second_step(harness, client)
    refused = client.post(
        "/otp/devices/revoke-all",
        data={"csrf_token": CSRF},
        headers={"Accept-Language": "ja"},
    )
    assert refused.status_code == 400
    assert "チェックボックスをオンにして確認してください。" in refused.text


def _browser_restart(client: Any) -> None:
    """The browser closed: the session cookie is gone, the persistent cookies stay."""
    client.delete_cookie("session")


def test_a_remember_me_cookie_on_a_remembered_device_is_not_asked_again(harness):
    client = harness.client()
    client.post("/login", data={"username": "alice", "password": PASSWORD, "remember": "1"})
    second_step(harness, client)
    _browser_restart(client)
    sent = len(harness.outbox.messages)
    assert client.get("/account").status_code == 200  # Flask-Login's cookie, this device
    assert len(harness.outbox.messages) == sent
    assert "/otp/verify" in client.get("/settings").headers["Location"]  # step-up still asks


def test_a_remember_me_cookie_without_the_device_goes_to_the_second_step(harness):
    client = harness.client()
    client.post("/login", data={"username": "alice", "password": PASSWORD, "remember": "1"})
    second_step(harness, client, remember=False)
    _browser_restart(client)
    answer = client.get("/account")
    assert answer.status_code == 303 and answer.headers["Location"] == "/otp/verify"
