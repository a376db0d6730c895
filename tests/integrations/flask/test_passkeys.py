"""Passkey pages in Flask, through the test client and a software authenticator
(tests/passkey_authenticator.py): the second step hands the browser its options and checks
its answer; a passkey confirms exactly the transaction shown; adding and removing need a
fresh second factor, removing a confirmation step; bad answers are a 4xx, never a 500;
CSRF, framing and the first-party script."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from otpgate import OutboxSender
from tests.conftest import FakeClock
from tests.passkey_authenticator import SoftAuthenticator

from .conftest import CSRF, PHONE, Harness, make_app, password_login

ORIGIN = "http://localhost"


@pytest.fixture
def site(clock: FakeClock, outbox: OutboxSender) -> Harness:
    harness = make_app(
        clock, outbox, OTPGATE_WEBAUTHN_RP_ID="localhost", OTPGATE_WEBAUTHN_ORIGINS=ORIGIN
    )
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def options_on(page: str) -> dict[str, Any]:
    """The options a page hands the browser (its form's data-otpgate-options)."""
    found = re.search(r"data-otpgate-options='([^']*)'", page)
    assert found, "no passkey form on the page"
    return dict(json.loads(html.unescape(found.group(1))))


def with_passkey(site: Harness, subject: str, name: str = "Laptop") -> SoftAuthenticator:
    authenticator = SoftAuthenticator(ORIGIN)
    with site.app.app_context():
        gate = site.gate.verifier
        setup = gate.setup(subject, "webauthn", name=name, label=subject)
        answer = authenticator.create(setup.challenge.browser_options)
        gate.verify(subject, "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    return authenticator


def keys(site: Harness, subject: str) -> list[Any]:
    with site.app.app_context():
        return list(site.gate.verifier.passkeys.list(subject))


def passkey_login(site: Harness, client: Any, authenticator: SoftAuthenticator, user: str) -> Any:
    password_login(client, user)
    page = client.get("/otp/verify").get_data(as_text=True)
    answer = authenticator.get(options_on(page))
    done = client.post(
        "/otp/verify",
        data={"csrf_token": CSRF, "method": "webauthn", "code": answer},
    )
    with client.session_transaction() as session:  # signing in replaced the CSRF token
        session["_otpgate_csrf"] = CSRF
    return done


def test_the_passkey_script_is_served_from_the_app(site):
    script = site.client().get("/otp/webauthn.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert b"OtpgateWebAuthn" in script.data


def test_the_second_step_opens_on_the_passkey_and_checks_the_answer(site):
    authenticator = with_passkey(site, "alice")
    client = site.client()
    password_login(client, "alice")
    page = client.get("/otp/verify").get_data(as_text=True)
    options = options_on(page)
    assert options["rpId"] == "localhost"
    assert "Use your passkey" in page and "/otp/webauthn.js" in page
    assert site.outbox.messages == []  # preferred over SMS: nothing sent
    done = client.post(
        "/otp/verify",
        data={"csrf_token": CSRF, "method": "webauthn", "code": authenticator.get(options)},
    )
    assert done.status_code == 303
    assert client.get("/account").status_code == 200


def test_a_sent_code_and_a_passkey_challenge_do_not_mix(site):
    with_passkey(site, "alice")
    client = site.client()
    password_login(client, "alice")
    client.get("/otp/verify")
    sms = client.get("/otp/verify?method=sms").get_data(as_text=True)
    assert "Send code" in sms and "We sent a code" not in sms
    client.post("/otp/verify/send", data={"csrf_token": CSRF, "method": "sms"})
    done = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": site.last_code()}
    )
    assert done.status_code == 303


@pytest.mark.parametrize("code", ["", "not json", "{}", '{"id": "x", "response": {}}', "[" * 3000])
def test_a_malformed_answer_is_a_4xx_not_a_500(site, code):
    with_passkey(site, "alice")
    client = site.client()
    password_login(client, "alice")
    client.get("/otp/verify")
    refused = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "webauthn", "code": code}
    )
    assert 400 <= refused.status_code < 500
    assert client.get("/account").status_code != 200


def test_an_answer_from_another_origin_is_refused_with_a_new_challenge(site):
    authenticator = with_passkey(site, "alice")
    client = site.client()
    password_login(client, "alice")
    options = options_on(client.get("/otp/verify").get_data(as_text=True))
    phished = authenticator.get(options, origin="https://evil.example")
    refused = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "webauthn", "code": phished}
    )
    assert refused.status_code == 400
    assert "That passkey could not be verified." in refused.get_data(as_text=True)
    assert options_on(refused.get_data(as_text=True))["challenge"] != options["challenge"]


def test_a_passkey_confirms_exactly_the_transaction_shown(site):
    authenticator = with_passkey(site, "alice")
    client = site.client()
    assert passkey_login(site, client, authenticator, "alice").status_code == 303
    form = {"csrf_token": CSRF, "amount": "250", "payee": "Bob"}
    page = client.post("/transfer", data=form).get_data(as_text=True)
    assert "Pay 250 EUR to Bob" in page and "Approve with your passkey" in page
    token = re.search(r'name="otpgate_challenge" value="([^"]+)"', page).group(1)
    answer = authenticator.get(options_on(page))
    changed = client.post(
        "/transfer",
        data={**form, "amount": "9999", "otpgate_challenge": token, "otpgate_code": answer},
    )
    assert changed.status_code != 200 and site.executed == []
    page = client.post("/transfer", data=form).get_data(as_text=True)
    token = re.search(r'name="otpgate_challenge" value="([^"]+)"', page).group(1)
    done = client.post(
        "/transfer",
        data={
            **form,
            "otpgate_challenge": token,
            "otpgate_code": authenticator.get(options_on(page)),
        },
    )
    assert done.status_code == 200 and site.executed == [{"amount": "250", "payee": "Bob"}]


def test_a_refused_answer_on_the_confirmation_page_gets_a_new_challenge(site):
    authenticator = with_passkey(site, "alice")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    form = {"csrf_token": CSRF, "amount": "10", "payee": "Bob"}
    page = client.post("/transfer", data=form).get_data(as_text=True)
    token = re.search(r'name="otpgate_challenge" value="([^"]+)"', page).group(1)
    first = options_on(page)
    wrong = authenticator.get(first, origin="https://evil.example")
    refused = client.post(
        "/transfer", data={**form, "otpgate_challenge": token, "otpgate_code": wrong}
    )
    again = refused.get_data(as_text=True)
    second = options_on(again)
    assert second["challenge"] != first["challenge"]
    token = re.search(r'name="otpgate_challenge" value="([^"]+)"', again).group(1)
    done = client.post(
        "/transfer",
        data={**form, "otpgate_challenge": token, "otpgate_code": authenticator.get(second)},
    )
    assert done.status_code == 200 and len(site.executed) == 1


def test_adding_a_passkey_on_the_page(site):
    client = site.client()
    password_login(client, "bob")  # no factor yet: signed in by password alone
    assert "No passkey yet." in client.get("/otp/").get_data(as_text=True)
    named = client.post("/otp/passkey", data={"csrf_token": CSRF, "name": "Phone"})
    options = options_on(named.get_data(as_text=True))
    assert options["rp"]["id"] == "localhost" and options["user"]["name"] == "bob"
    answer = SoftAuthenticator(ORIGIN).create(options)
    done = client.post("/otp/passkey/finish", data={"csrf_token": CSRF, "credential": answer})
    assert done.status_code == 303
    with client.session_transaction() as session:
        session["_otpgate_csrf"] = CSRF
    listing = client.get("/otp/").get_data(as_text=True)
    assert "Phone" in listing and "Never used" in listing
    assert [key.name for key in keys(site, "bob")] == ["Phone"]


def test_removing_needs_a_fresh_factor_then_a_confirmation(site, clock):
    authenticator = with_passkey(site, "alice", "Old phone")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    key = keys(site, "alice")[0]
    clock.advance(301)  # past OTPGATE_STEP_UP_MAX_AGE (300 s)
    stale = client.get(f"/otp/passkey/remove?id={key.credential_id}")
    assert stale.status_code in (302, 303) and "/otp/verify" in stale.headers["Location"]
    page = client.get("/otp/verify").get_data(as_text=True)
    client.post(
        "/otp/verify",
        data={
            "csrf_token": CSRF,
            "method": "webauthn",
            "code": authenticator.get(options_on(page)),
        },
    )
    with client.session_transaction() as session:
        session["_otpgate_csrf"] = CSRF
    confirm = client.get(f"/otp/passkey/remove?id={key.credential_id}")
    assert confirm.status_code == 200 and "Old phone" in confirm.get_data(as_text=True)
    assert len(keys(site, "alice")) == 1  # asking removes nothing
    forged = {"csrf_token": CSRF, "id": key.credential_id}
    asked = client.post("/otp/passkey/remove", data=forged)  # no confirmation: asks again
    assert asked.status_code == 200 and len(keys(site, "alice")) == 1
    done = client.post("/otp/passkey/remove", data={**forged, "confirm": "1"})
    assert done.status_code == 303 and keys(site, "alice") == []


def test_passkey_forms_need_the_csrf_token_and_deny_framing(site):
    client = site.client()
    password_login(client, "bob")
    refused = client.post("/otp/passkey", data={"name": "X"})
    assert refused.status_code == 403 and keys(site, "bob") == []
    page = client.get("/otp/passkey")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "no-store" in page.headers["Cache-Control"]


def test_without_passkey_settings_there_is_no_passkey_section(clock, outbox):
    plain = make_app(clock, outbox)
    client = plain.client()
    password_login(client, "bob")
    page = client.get("/otp/").get_data(as_text=True)
    assert "Passkeys" not in page and "Add a passkey" not in page
    refused = client.post("/otp/passkey", data={"csrf_token": CSRF, "name": "X"})
    assert 400 <= refused.status_code < 500


def test_the_json_management_answer_names_the_passkeys(site):
    authenticator = with_passkey(site, "alice", "Yubikey")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    listing = client.get("/otp/", headers={"Accept": "application/json"}).get_json()
    assert listing["passkeys"] == ["Yubikey"] and "webauthn" in listing["available_factors"]


def test_asking_to_send_a_passkey_sends_nothing_and_leaves_the_sms_alone(site):
    with_passkey(site, "alice")
    client = site.client()
    password_login(client, "alice")
    page = client.post("/otp/verify/send", data={"csrf_token": CSRF, "method": "webauthn"})
    assert "Use your passkey" in page.get_data(as_text=True)
    assert site.outbox.messages == []
    sms = client.get("/otp/verify?method=sms").get_data(as_text=True)
    assert "Send code" in sms and "We sent a code" not in sms


def test_adding_a_passkey_over_json(site):
    """An app's own script: the creation options as JSON, the answer back as JSON."""
    client = site.client()
    password_login(client, "bob")
    started = client.post("/otp/passkey", json={"name": "Tablet"}, headers={"X-CSRFToken": CSRF})
    assert started.status_code == 201
    options = started.get_json()["challenge"]["browser_options"]
    bad = client.post(
        "/otp/passkey/finish", json={"credential": "{}"}, headers={"X-CSRFToken": CSRF}
    )
    assert bad.status_code == 400 and bad.get_json()["code"] == "malformed_input"
    answer = SoftAuthenticator(ORIGIN).create(options)
    done = client.post(
        "/otp/passkey/finish", json={"credential": answer}, headers={"X-CSRFToken": CSRF}
    )
    assert done.status_code == 200 and done.get_json()["factors"]["passkeys"] == ["Tablet"]
    again = client.post(
        "/otp/passkey/finish", json={"credential": answer}, headers={"X-CSRFToken": CSRF}
    )
    assert again.status_code == 410 and again.get_json()["code"] == "expired"
