"""The second step of a sign-in: SMS, authenticator app, recovery codes; expiry, next, rotation."""

from __future__ import annotations

import pyotp
import pytest

from otpgate.core.web import SESSION_KEY, SecondFactorState
from tests.conftest import PHONE
from tests.integrations.flask.conftest import CSRF, PASSWORD, password_login, sms_login


def enroll_totp(harness, subject="carol") -> str:
    with harness.app.app_context():
        enrollment = harness.gate.verifier.totp.enroll(subject)
        totp = pyotp.TOTP(enrollment.secret)
        harness.gate.verifier.totp.confirm(subject, totp.at(harness.clock.now))
    harness.clock.advance(30)  # the next step: each step is accepted once
    return enrollment.secret


def test_password_alone_leaves_the_user_signed_out(harness):
    client = harness.client()
    response = password_login(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/otp/verify"
    assert client.get("/dashboard").status_code == 302
    page = client.get("/otp/verify")
    assert "We will send a code to +33\u00a0•••\u00a0•••\u00a05678." in page.text
    assert PHONE not in page.text


def test_sms_second_step_signs_in_and_rotates_the_session(harness):
    client = harness.client()
    password_login(client)
    with client.session_transaction() as session:
        before = dict(session)
    assert client.post("/otp/verify/send", data={"csrf_token": CSRF}).status_code == 303
    page = client.get("/otp/verify?method=sms")
    assert 'autocomplete="one-time-code"' in page.text
    response = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        after = dict(session)
    assert after["_user_id"] == "alice"
    assert after[SESSION_KEY]["verified_subject"] == "alice"
    assert SecondFactorState.load(after).pending_subject == ""
    assert "_otpgate_csrf" not in after  # the pre-login CSRF token is gone
    assert after["_otpgate_nonce"] != before.get("_otpgate_nonce")
    assert client.get("/dashboard").status_code == 200
    assert client.get("/account").status_code == 200


def test_a_code_is_not_accepted_twice(harness):
    client = harness.client()
    sms_login(harness, client)
    code = harness.last_code()
    other = harness.client()
    password_login(other)
    response = other.post("/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": code})
    assert response.status_code == 410  # no challenge in this session: expired, nothing more
    assert other.get("/dashboard").status_code == 302


def test_authenticator_app_second_step(harness):
    secret = enroll_totp(harness)
    client = harness.client()
    password_login(client, "carol")
    page = client.get("/otp/verify")
    assert 'aria-current="page">Authenticator app' in page.text  # offered first: no SMS cost
    code = pyotp.TOTP(secret).at(harness.clock.now)
    wrong = client.post(
        "/otp/verify",
        data={
            "csrf_token": CSRF,
            "method": "totp",
            "code": "000000" if code != "000000" else "111111",
        },
    )
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text and "That code is not correct." in wrong.text
    response = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": code})
    assert response.status_code == 303
    assert client.get("/account").status_code == 200


def test_recovery_code_second_step_is_single_use(harness):
    with harness.app.app_context():
        codes = harness.gate.verifier.recovery.generate("alice")
    client = harness.client()
    password_login(client)
    form = {"csrf_token": CSRF, "method": "recovery", "code": codes[0].lower()}
    assert client.post("/otp/verify", data=form).status_code == 303
    again = harness.client()
    password_login(again)
    assert again.post("/otp/verify", data=form).status_code == 400


def test_user_without_factor_signs_in_with_password(harness):
    client = harness.client()
    response = password_login(client, "bob")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/dashboard").status_code == 200


def test_next_goes_only_to_the_same_host(harness):
    for target, expected in [
        ("/settings?tab=1", "/settings?tab=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("http://localhost/dashboard", "http://localhost/dashboard"),
    ]:
        client = harness.client()
        client.post(
            "/login",
            query_string={"next": target},
            data={"username": "alice", "password": PASSWORD},
        )
        client.post("/otp/verify/send", data={"csrf_token": CSRF})
        response = client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
        )
        assert response.headers["Location"] == expected


def test_second_step_expires(harness):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    code = harness.last_code()
    harness.clock.advance(601)  # login_step_timeout is 600 s
    response = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": code})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert client.get("/dashboard").status_code == 302


def test_cancel_forgets_the_pending_sign_in(harness):
    client = harness.client()
    password_login(client)
    response = client.post("/otp/verify/cancel", data={"csrf_token": CSRF})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/otp/verify").status_code == 303  # back to sign-in


@pytest.mark.parametrize("remember", [True, False])
def test_remember_me_is_passed_to_login_user(harness, remember):
    client = harness.client()
    form = {"username": "alice", "password": PASSWORD} | ({"remember": "1"} if remember else {})
    client.post("/login", data=form)
    with client.session_transaction() as session:  # waits in the core's SecondFactorState
        assert SecondFactorState.load(session).pending_remember is remember
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    response = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    )
    assert ("remember_token=" in response.headers.get("Set-Cookie", "")) is remember
    with client.session_transaction() as session:
        assert SecondFactorState.load(session).pending_remember is False


def test_logout_forgets_the_second_factor(harness):
    client = harness.client()
    sms_login(harness, client)
    client.post("/logout")
    password_login(client)
    assert client.get("/account").status_code == 302


def test_a_passed_second_step_sends_the_signal(harness):
    from otpgate.integrations.flask.signals import second_factor_passed

    seen: list[tuple[object, str, bool]] = []

    def note(app, verification, login):
        seen.append((app, verification.subject, login))

    with second_factor_passed.connected_to(note):
        client = harness.client()
        assert sms_login(harness, client).status_code == 303
    assert seen == [(harness.app, "alice", True)]


@pytest.mark.parametrize("server_side", [False, True])
def test_signing_in_keeps_the_apps_own_keys_and_regenerates_where_it_can(harness, server_side):
    # A session interface that can regenerate (Flask-Session's) gets the session emptied of
    # what goes, then refilled with what stays; without one the keys that go are dropped.
    from flask.sessions import SecureCookieSessionInterface

    seen: list[dict[str, object]] = []

    class Regenerating(SecureCookieSessionInterface):
        def regenerate(self, session):
            seen.append(dict(session))

    if server_side:
        harness.app.session_interface = Regenerating()
    client = harness.client()
    with client.session_transaction() as session:
        session["theme"] = "dark"
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    response = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    )
    assert response.status_code == 303
    with client.session_transaction() as session:
        after = dict(session)
    assert after["theme"] == "dark" and after["_user_id"] == "alice"
    assert "_otpgate_csrf" not in after and after["_otpgate_nonce"]
    assert seen == ([{}] if server_side else [])
