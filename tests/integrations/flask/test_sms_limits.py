"""Resend cooldown (shown and enforced), attempt limit, lockout, delivery failure."""

from __future__ import annotations

from otpgate import DeliveryFailed
from tests.integrations.flask.conftest import CSRF, password_login


def test_resend_honours_the_cooldown_and_shows_the_wait(harness):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    first = harness.last_code()
    page = client.get("/otp/verify?method=sms")
    assert 'data-otpgate-wait="30"' in page.text
    assert "<span data-otpgate-seconds>30</span>" in page.text
    early = client.post("/otp/verify/send", data={"csrf_token": CSRF})
    assert early.status_code == 429 and early.headers["Retry-After"] == "30"
    assert "Try again in 30 seconds." in early.text
    assert len(harness.outbox.messages) == 1
    harness.clock.advance(30)
    assert client.post("/otp/verify/send", data={"csrf_token": CSRF}).status_code == 303
    assert harness.last_code() == first  # the same code while it is valid
    assert 'data-otpgate-wait="60"' in client.get("/otp/verify?method=sms").text  # doubled
    api = client.post("/otp/verify/send", json={}, headers={"X-CSRFToken": CSRF})
    assert api.status_code == 429 and api.json["code"] == "resend_cooldown"
    assert api.json["retry_after"] == 60


def test_attempt_limit_ends_the_challenge(clock, outbox):
    from tests.integrations.flask.conftest import make_app

    harness = make_app(clock, outbox, OTPGATE_LOCKOUT_AFTER=10)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    code = harness.last_code()
    wrong = "000000" if code != "000000" else "111111"
    statuses = []
    for _ in range(5):
        response = client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": wrong}
        )
        statuses.append(response.status_code)
    assert statuses == [400, 400, 400, 400, 410]
    assert "Too many wrong codes" in response.text
    late = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": code})
    assert late.status_code == 410
    # A new code can be requested: the page offers to send one.
    assert "Send code" in client.get("/otp/verify?method=sms").text


def test_lockout_after_repeated_failures_is_a_429_with_retry_after(harness):
    from tests.integrations.flask.test_login import enroll_totp

    enroll_totp(harness)
    client = harness.client()
    password_login(client, "carol")
    for _ in range(5):
        response = client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": "000000"}
        )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


def test_delivery_failure_is_shown_and_can_be_retried(harness):
    harness.outbox.failing = DeliveryFailed()
    client = harness.client()
    password_login(client)
    response = client.post("/otp/verify/send", data={"csrf_token": CSRF})
    assert response.status_code == 502
    assert "could not be sent" in response.text
    harness.outbox.failing = None
    assert client.post("/otp/verify/send", data={"csrf_token": CSRF}).status_code == 303
    assert harness.outbox.messages
