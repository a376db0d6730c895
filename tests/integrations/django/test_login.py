"""The login flow: password, then the second step; session rotation, next, expiry."""

from __future__ import annotations

import pytest

from .conftest import PHONE, full_login, last_code, sign_in

pytestmark = pytest.mark.django_db


def test_password_then_sms_code_logs_in_and_rotates_the_session(client, sms_user, outbox):
    response = sign_in(client, "alice", "/secret/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/"
    pending_key = client.session.session_key
    # Not logged in yet: the pending user is anonymous.
    assert "_auth_user_id" not in client.session
    page = client.get("/2fa/verify/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "+33 ••• ••• 5678".replace(" ", "") in body.replace(" ", "").replace("\u00a0", "")
    assert 'autocomplete="one-time-code"' in body
    assert 'inputmode="numeric"' in body
    assert 'pattern="[0-9]*"' in body
    assert PHONE not in body
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response.status_code == 302
    assert response["Location"] == "/secret/"
    assert client.session.session_key != pending_key
    assert client.session["_auth_user_id"] == str(sms_user.pk)
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
