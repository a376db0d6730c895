"""Flask's second step lists the factors the core offers and dispatches through
``gate.start``/``gate.verify``: it opens on the preferred factor and sends no SMS unless that
factor sends, the user can change the preference, and a factor registered in the core at
test time is offered and usable with no change to the integration."""

from __future__ import annotations

import re

import pyotp

from otpgate import register_factor
from otpgate.core.factors import registry
from tests.conftest import PHONE
from tests.factors import PinFactor
from tests.integrations.flask.conftest import CSRF, password_login
from tests.integrations.flask.test_login import enroll_totp

H = {"Accept": "application/json", "X-CSRFToken": CSRF}


def same_csrf(client) -> None:
    with client.session_transaction() as session:  # signing in replaced the CSRF token
        session["_otpgate_csrf"] = CSRF


def app_and_phone(harness, subject="carol") -> str:
    secret = enroll_totp(harness, subject)
    harness.credentials.add_phone(subject, PHONE)
    return secret


def test_a_user_with_an_app_signs_in_with_no_sms_sent(harness):
    secret = app_and_phone(harness)
    client = harness.client()
    password_login(client, "carol")
    status = client.get("/otp/verify", headers=H).json
    assert status["factor"] == "totp" and status["methods"] == ["totp", "sms"]
    assert status["factors"][0]["preferred"] and not status["factors"][0]["sends"]
    page = client.get("/otp/verify")
    assert 'aria-current="page">Authenticator app' in page.text
    code = pyotp.TOTP(secret).at(harness.clock.now)
    done = client.post("/otp/verify", data={"csrf_token": CSRF, "code": code, "factor": "totp"})
    assert done.status_code == 303
    assert client.get("/account").status_code == 200
    assert harness.outbox.messages == []


def test_the_preferred_factor_is_changed_on_the_management_page(harness):
    secret = app_and_phone(harness)
    client = harness.client()
    password_login(client, "carol")
    code = pyotp.TOTP(secret).at(harness.clock.now)
    client.post("/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": code})
    same_csrf(client)
    manage = client.get("/otp/")
    assert 'name="factor"' in manage.text and "Preferred factor" in manage.text
    listing = client.get("/otp/", headers=H).json
    assert listing["preferred_factor"] == "totp"
    assert listing["available_factors"] == ["totp", "sms"]
    forged = client.post("/otp/preferred", data={"factor": "sms"})
    assert forged.status_code in {400, 403}
    saved = client.post("/otp/preferred", data={"csrf_token": CSRF, "factor": "sms"})
    assert saved.status_code == 303, saved.text
    assert client.get("/otp/", headers=H).json["preferred_factor"] == "sms"
    not_hers = client.post(
        "/otp/preferred", json={"factor": "webauthn"}, headers=H
    )  # no passkey: refused, nothing stored
    assert not_hers.status_code == 409
    assert not_hers.json["code"] == "factor_not_enrolled"
    # the next sign-in opens on SMS; still nothing is sent until the user asks
    again = harness.client()
    password_login(again, "carol")
    assert again.get("/otp/verify", headers=H).json["factor"] == "sms"
    assert "Send code" in again.get("/otp/verify").text
    assert harness.outbox.messages == []


def preferred_menu(page: str) -> list[str]:
    """The factor names the management page's "preferred" menu offers."""
    menu = re.search(r'<select id="otpgate-preferred-factor".*?</select>', page, re.S)
    return re.findall(r'<option value="([^"]+)"', menu.group(0)) if menu else []


def test_a_recovery_code_is_never_offered_nor_taken_as_the_preferred_factor(harness):
    secret = app_and_phone(harness)
    with harness.app.app_context():
        harness.gate.verifier.recovery.generate("carol")
    client = harness.client()
    password_login(client, "carol")
    code = pyotp.TOTP(secret).at(harness.clock.now)
    client.post("/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": code})
    same_csrf(client)
    assert preferred_menu(client.get("/otp/").text) == ["totp", "sms"]
    listing = client.get("/otp/", headers=H).json
    assert listing["available_factors"] == ["totp", "sms", "recovery"]  # still offered
    assert listing["preferable_factors"] == ["totp", "sms"]
    page = client.post("/otp/preferred", data={"csrf_token": CSRF, "factor": "recovery"})
    assert page.status_code == 409 and "cannot be your preferred one" in page.text
    api = client.post("/otp/preferred", json={"factor": "recovery"}, headers=H)
    assert api.status_code == 409 and api.json["code"] == "factor_not_preferable"
    with harness.app.app_context():
        assert harness.gate.verifier.credentials.preferred_factor("carol") is None
        # a choice stored before the rule is ignored: the menu and sign-in open on the app
        harness.gate.verifier.credentials.set_preferred_factor("carol", "recovery")
    listing = client.get("/otp/", headers=H).json
    assert listing["preferred_factor"] == "totp"
    assert 'value="totp" selected' in client.get("/otp/").text


def test_changing_the_preference_needs_the_second_factor(harness):
    app_and_phone(harness)
    client = harness.client()
    password_login(client, "carol")  # password only: the second step is pending
    refused = client.post("/otp/preferred", data={"csrf_token": CSRF, "factor": "sms"})
    assert refused.status_code in {302, 303, 401, 403}
    with harness.app.app_context():
        assert harness.gate.verifier.preferred_factor("carol") == "totp"


def test_a_factor_registered_in_the_core_is_offered_and_used_with_no_flask_change(harness):
    register_factor(PinFactor())
    try:
        client = harness.client()
        password_login(client)  # alice: a phone
        assert client.get("/otp/verify", headers=H).json["methods"] == ["sms", "pin"]
        page = client.get("/otp/verify?factor=pin")
        assert 'aria-current="page">pin' in page.text
        assert 'maxlength="4"' in page.text and 'name="method" value="pin"' in page.text
        wrong = client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "pin", "code": "1111"}
        )
        assert wrong.status_code == 400 and "That code is not correct." in wrong.text
        done = client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "pin", "code": "2468"}
        )
        assert done.status_code == 303
        assert client.get("/account").status_code == 200
        assert harness.outbox.messages == []
        same_csrf(client)
        # step-up through the same factor
        harness.clock.advance(301)
        assert client.get("/settings").status_code in {302, 303}
        stepped = client.post(
            "/otp/verify", json={"method": "pin", "code": "2468", "next": "/settings"}, headers=H
        )
        assert stepped.json.get("factor") == "pin", stepped.json
        assert client.get("/settings").status_code == 200
    finally:
        registry.unregister("pin")
