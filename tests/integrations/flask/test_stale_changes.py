"""Issue 18, class 1: every change of factors needs a fresh second factor, on every rule of
otpgate's blueprint (pages and JSON), whatever the request carries."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from otpgate.core.factors.changes import address_kind
from otpgate.core.web import SESSION_KEY, SecondFactorState
from otpgate.integrations.flask.extension import gate_state
from otpgate.integrations.flask.web import CSRF_SESSION_KEY
from tests.conftest import OTHER_PHONE, PHONE
from tests.integrations.flask.conftest import CSRF, Harness, sms_login
from tests.integrations.stale import CHANGING_METHODS, Secrets, body_shapes, sync_fingerprint

ENROLL_KEY = address_kind("sms").slot
THIRD_PHONE = "+447700900123"
STALE = 301  # seconds past the last second factor: more than step_up_max_age (300)
JSON = {"X-CSRFToken": CSRF, "Accept": "application/json"}


class Stale:
    """Alice with a phone and recovery codes, a pending app set-up and a number being added
    (all made while fresh), and a client whose session passed its second factor too long ago.
    """

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.gate = harness.verifier
        codes = self.gate.recovery.generate("alice")
        setup = self.gate.totp.enroll("alice")
        self.enroll_id = self.gate.start_sms("alice", OTHER_PHONE, purpose="enroll").id
        self.secrets = Secrets(setup.secret, codes, harness.last_code(OTHER_PHONE))
        self.verified_at = harness.clock() - STALE
        self.client = harness.client()
        self.before = self.fingerprint()

    def fingerprint(self) -> tuple[object, ...]:
        return sync_fingerprint(self.gate, "alice", self.secrets.recovery_codes[0])

    def reset(self) -> None:
        """Back to the stale session (a request may have changed it) and no lock."""
        state = SecondFactorState(
            verified_subject="alice", verified_at=self.verified_at, verified_factor="sms"
        )
        with self.client.session_transaction() as session:
            session.clear()
            session.update({"_user_id": "alice", "_fresh": True, CSRF_SESSION_KEY: CSRF})
            session[SESSION_KEY] = state.dump()
            session[ENROLL_KEY] = self.enroll_id
        self.gate.unlock("alice")

    def send(self, method: str, url: str, body: dict[str, str], encoding: str) -> Any:
        self.reset()
        sends = len(self.harness.outbox.messages_to(OTHER_PHONE))
        if encoding == "json":
            response = self.client.open(url, method=method, json=body, headers=JSON)
        else:
            data = {"csrf_token": CSRF, **body}
            response = self.client.open(url, method=method, data=data)
        where = f"{method} {url} {encoding} {body}"
        assert self.fingerprint() == self.before, f"{where}: the factors changed"
        self.secrets.assert_not_in(response.get_data(as_text=True), where)
        with self.client.session_transaction() as session:
            state = SecondFactorState.load(session)
        now = self.harness.clock()
        assert not state.is_fresh("alice", now, 300), f"{where}: now fresh"
        assert len(self.harness.outbox.messages_to(OTHER_PHONE)) == sends, f"{where}: resent"
        return response


def rules(harness: Harness) -> list[tuple[str, str, list[str]]]:
    """Every rule of otpgate's blueprint, from the app's url_map: (endpoint, URL, methods)."""
    prefix = gate_state(harness.app).blueprint + "."
    found = []
    for rule in harness.app.url_map.iter_rules():
        if rule.endpoint.startswith(prefix) and not rule.arguments:
            changing = sorted(set(rule.methods or ()) & set(CHANGING_METHODS))
            found.append((rule.endpoint[len(prefix) :], rule.rule, changing))
    return found


@pytest.fixture
def stale(harness: Harness) -> Stale:
    return Stale(harness)


def test_no_rule_changes_factors_for_a_stale_session(stale: Stale):
    found = rules(stale.harness)
    changing = {name for name, _url, methods in found if methods}
    assert {"phone", "phone_resend", "phone_confirm", "phone_remove", "totp"} <= changing
    assert {"totp_confirm", "totp_remove", "recovery"} <= changing
    shapes = body_shapes(stale.secrets.codes(stale.harness.clock()), [THIRD_PHONE, OTHER_PHONE])
    for _name, url, methods in found:
        for method in methods:
            for body in shapes:
                stale.send(method, url, body, "form")
                stale.send(method, url, body, "json")


def test_no_page_shows_a_secret_to_a_stale_session(stale: Stale):
    for name, url, _methods in rules(stale.harness):
        stale.reset()
        response = stale.client.get(url)
        stale.secrets.assert_not_in(response.get_data(as_text=True), f"GET {name}")


def test_stale_session_cannot_confirm_a_pending_app_then_remove_the_phone(stale: Stale):
    """The reported attack: confirming the pending set-up made the session fresh."""
    code = stale.secrets.totp_code(stale.harness.clock())
    page = stale.send("POST", "/otp/totp/confirm", {"code": code}, "form")
    assert page.status_code == 303 and page.headers["Location"].startswith("/otp/verify")
    api = stale.send("POST", "/otp/totp/confirm", {"code": code}, "json")
    assert api.status_code == 401 and api.json["code"] == "fresh_otp_required"
    removal = stale.send("POST", "/otp/phone/remove", {"index": "0", "confirm": "1"}, "form")
    assert removal.headers["Location"].startswith("/otp/verify")
    assert stale.gate.credentials.phones("alice") == [PHONE]


def test_stale_session_cannot_finish_adding_a_number(stale: Stale):
    code = stale.secrets.enroll_code
    for encoding in ("form", "json"):
        confirm = stale.send("POST", "/otp/phone/confirm", {"code": code}, encoding)
        assert confirm.status_code in {303, 401}
        resend = stale.send("POST", "/otp/phone/resend", {}, encoding)
        assert resend.status_code in {303, 401}


def test_a_fresh_session_finishes_both_set_ups(harness: Harness):
    client = harness.client()
    sms_login(harness, client)
    headers = {"X-CSRFToken": CSRF}
    setup = client.post("/otp/totp", json={}, headers=headers).json
    code = pyotp.TOTP(setup["secret"]).at(harness.clock.now)
    assert client.post("/otp/totp/confirm", json={"code": code}, headers=headers).json["factors"][
        "totp"
    ]
    client.post("/otp/phone", json={"phone": OTHER_PHONE}, headers=headers)
    early = client.post("/otp/phone/resend", json={}, headers=headers)
    assert early.status_code == 429  # a change a fresh session may make (cooldown aside)
    code = harness.last_code(OTHER_PHONE)
    done = client.post("/otp/phone/confirm", json={"code": code}, headers=headers)
    assert done.status_code == 200 and len(done.json["factors"]["masked_phones"]) == 2
