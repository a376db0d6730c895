"""The account name authenticator apps show (issue 15): the signed-in user's email, user name
or name (in that order), else the user id; ``account_label=`` overrides it."""

from __future__ import annotations

from urllib.parse import unquote

from flask_login import UserMixin

from tests.integrations.flask.conftest import CSRF, make_app, sms_login

H = {"X-CSRFToken": CSRF}


class Person(UserMixin):
    def __init__(self, user_id: str, **attributes: str) -> None:
        self.id = user_id
        self.__dict__.update(attributes)


def enrolled_uri(clock, outbox, attributes, label=None, **config) -> str:
    harness = make_app(clock, outbox, **config)
    if label is not None:  # as OtpGate(account_label=label) would
        harness.app.extensions["otpgate"].account_label = label
    harness.app.login_manager._user_callback = lambda uid: Person(uid, **attributes)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    client = harness.client()
    sms_login(harness, client)
    response = client.post("/otp/totp", json={}, headers=H)
    assert response.status_code == 201, response.text
    return unquote(response.json["uri"])


def test_the_label_is_the_email_first(clock, outbox):
    uri = enrolled_uri(clock, outbox, {"email": "alice@example.com", "username": "al"})
    assert uri.startswith("otpauth://totp/otpgate:alice@example.com?")


def test_then_the_user_name_then_the_name(clock, outbox):
    uri = enrolled_uri(clock, outbox, {"email": " ", "username": "al", "name": "Alice"})
    assert uri.startswith("otpauth://totp/otpgate:al?")
    uri = enrolled_uri(clock, outbox, {"name": "Alice Liddell"})
    assert uri.startswith("otpauth://totp/otpgate:Alice Liddell?")


def test_else_the_user_id_and_the_brand_is_the_issuer(clock, outbox):
    uri = enrolled_uri(clock, outbox, {}, OTPGATE_BRAND="Acme")
    assert uri.startswith("otpauth://totp/Acme:alice?") and "issuer=Acme" in uri


def test_an_account_label_function_wins(clock, outbox):
    def label(subject: str) -> str:
        return f"customer {subject}"

    uri = enrolled_uri(clock, outbox, {"email": "alice@example.com"}, label=label)
    assert uri.startswith("otpauth://totp/otpgate:customer alice?")
