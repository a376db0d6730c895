"""The login flow: password, then the second step; session rotation, next, expiry."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, PHONE, full_login, last_code, sign_in

pytestmark = pytest.mark.django_db


def test_password_then_sms_code_logs_in_and_rotates_the_session(client, sms_user, outbox):
    response = sign_in(client, "alice", "/secret/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/"
    pending_key = client.session.session_key
    # Not logged in yet: the pending user is anonymous.
    assert "_auth_user_id" not in client.session
    state = client.session["otpgate"]  # the core's SecondFactorState
    assert state["pending_subject"] == str(sms_user.pk) and state["pending_method"] == "sms"
    assert state["pending_backend"] == "django.contrib.auth.backends.ModelBackend"
    page = client.get("/2fa/verify/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "+33 ••• ••• 5678".replace(" ", "") in body.replace(" ", "").replace("\u00a0", "")
    assert 'autocomplete="one-time-code"' in body
    assert 'inputmode="numeric"' in body
    assert 'pattern="\\p{Nd}*"' in body
    assert PHONE not in body
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response.status_code == 302
    assert response["Location"] == "/secret/"
    assert client.session.session_key != pending_key
    assert client.session["_auth_user_id"] == str(sms_user.pk)
    state = client.session["otpgate"]
    assert state["verified_subject"] == str(sms_user.pk)
    assert "pending_backend" not in state and "pending_method" not in state  # cleared
    assert client.get("/secret/").content == b"PROTECTED step-up"


def test_next_only_to_the_same_host(client, sms_user, outbox):
    sign_in(client, "alice", "https://evil.example/steal")
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response["Location"] == "/"


def test_user_without_factor_logs_in_with_password(client, user):
    response = sign_in(client, "nofactor")
    assert response.status_code == 302
    assert client.get("/").content == b"PROTECTED home"


def test_wrong_code_shows_error_with_attempts(client, sms_user, outbox):
    sign_in(client, "alice")
    response = client.post("/2fa/verify/", {"action": "verify", "code": "000000"})
    if last_code(outbox) == "000000":  # pragma: no cover - one in a million
        return
    assert response.status_code == 400
    assert "That code is not correct." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_full_login_helper(client, sms_user, outbox):
    response = full_login(client, outbox)
    assert response.status_code == 302


def test_resend_honours_the_cooldown_and_shows_the_wait(client, sms_user, outbox, clock):
    sign_in(client, "alice")
    page = client.get("/2fa/verify/").content.decode()
    assert 'data-wait="30"' in page
    assert "You can ask for a new code in" in page
    response = client.post("/2fa/verify/", {"action": "resend"})
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert len(outbox.messages) == 1
    clock.advance(31)
    response = client.post("/2fa/verify/", {"action": "resend"})
    assert response.status_code == 200
    assert "We sent you a new code." in response.content.decode()
    assert len(outbox.messages) == 2
    assert outbox.messages[0].code == outbox.messages[1].code  # the same code while valid
    assert 'data-wait="60"' in response.content.decode()  # the wait doubles


def test_wrong_codes_to_the_limit(client, sms_user, outbox):
    sign_in(client, "alice")
    good = last_code(outbox)
    wrong = "111111" if good != "111111" else "222222"
    statuses = [
        client.post("/2fa/verify/", {"action": "verify", "code": wrong}).status_code
        for _ in range(5)
    ]
    assert statuses[:4] == [400, 400, 400, 400]
    assert statuses[4] in {410, 429}
    response = client.post("/2fa/verify/", {"action": "verify", "code": good})
    assert response.status_code in {410, 429}
    assert "_auth_user_id" not in client.session
    # A new code can be requested (the page offers to send one).
    assert "Send code" in client.get("/2fa/verify/").content.decode()


def test_authenticator_app_login_and_replay(client, db, gate, clock):
    from .conftest import make_user
    from .helpers import totp_now

    person = make_user("bob")
    setup = gate.totp.enroll(str(person.pk), "bob")
    gate.totp.confirm(str(person.pk), totp_now(setup.secret, clock()))
    clock.advance(30)
    response = sign_in(client, "bob")
    assert response["Location"] == "/2fa/verify/"
    page = client.get("/2fa/verify/").content.decode()
    assert "authenticator app" in page
    code = totp_now(setup.secret, clock())
    response = client.post("/2fa/verify/", {"action": "verify", "method": "totp", "code": code})
    assert response.status_code == 302
    assert client.get("/").content == b"PROTECTED home"
    # The same code again (another browser) is refused: each time step counts once.
    other = type(client)()
    sign_in(other, "bob")
    response = other.post("/2fa/verify/", {"action": "verify", "method": "totp", "code": code})
    assert response.status_code == 400
    assert "already used" in response.content.decode()


def test_recovery_code_works_once(client, sms_user, gate, outbox):
    codes = gate.recovery.generate(str(sms_user.pk))
    sign_in(client, "alice")
    response = client.get("/2fa/verify/?method=recovery")
    assert "Enter one of the recovery codes" in response.content.decode()
    response = client.post(
        "/2fa/verify/", {"action": "verify", "method": "recovery", "code": codes[0]}
    )
    assert response.status_code == 302
    assert gate.recovery.remaining(str(sms_user.pk)) == 9
    other = type(client)()
    sign_in(other, "alice")
    response = other.post(
        "/2fa/verify/", {"action": "verify", "method": "recovery", "code": codes[0]}
    )
    assert response.status_code == 400
    assert "_auth_user_id" not in other.session


def test_pending_step_expires(client, sms_user, outbox, clock):
    sign_in(client, "alice")
    clock.advance(601)  # OTPGATE_LOGIN_STEP_TIMEOUT defaults to 600 s
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/2fa/verify/")["Location"].startswith("/accounts/login/")


def test_deactivated_meanwhile_cannot_finish(client, sms_user, outbox):
    sign_in(client, "alice")
    sms_user.is_active = False
    sms_user.save()
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_custom_login_view_through_the_hook(client, sms_user, outbox):
    response = client.post(
        "/accounts/custom-login/",
        {"username": "alice", "password": PASSWORD, "next": "/secret/"},
    )
    assert response["Location"] == "/2fa/verify/"
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response["Location"] == "/secret/"


def test_plain_login_view_is_caught_by_the_middleware(client, sms_user, outbox):
    client.post("/accounts/plain-login/", {"username": "alice", "password": PASSWORD})
    assert client.get("/")["Location"] == "/2fa/verify/?next=%2F"


def test_delivery_failure_is_shown_and_resend_works(client, sms_user, outbox):
    from otpgate import DeliveryFailed

    outbox.failing = DeliveryFailed()
    sign_in(client, "alice")
    page = client.get("/2fa/verify/")
    assert "could not be sent" in page.content.decode()
    outbox.failing = None
    response = client.post("/2fa/verify/", {"action": "resend"})
    assert response.status_code == 200
    assert last_code(outbox)


def test_no_500_on_bad_input(client, sms_user):
    sign_in(client, "alice")
    for code in ["١٢٣٤٥٦", "１２３４５６", "x" * 10_000, "", "12 34 56 78 90 12"]:
        response = client.post("/2fa/verify/", {"action": "verify", "code": code})
        assert 400 <= response.status_code < 500
    for method in ["bogus", "totp", "recovery" * 1000]:
        response = client.post("/2fa/verify/", {"action": "verify", "method": method, "code": "1"})
        assert 400 <= response.status_code < 500
    assert client.post("/2fa/verify/", {"action": "x" * 10_000}).status_code < 500
