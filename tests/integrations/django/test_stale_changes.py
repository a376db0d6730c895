"""Issue 18, class 1: every change of factors needs a fresh second factor, on every route of
otpgate's URLconf (pages and JSON API), whatever the request carries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from otpgate.core.web import SESSION_KEY, SecondFactorState
from otpgate.integrations.django import urls as otpgate_urls
from otpgate.integrations.django.session import EXTRA_KEY
from tests.integrations.stale import CHANGING_METHODS, Secrets, body_shapes, sync_fingerprint

from .conftest import OTHER_PHONE, PHONE, full_login, last_code
from .helpers import totp_now

pytestmark = pytest.mark.django_db

THIRD_PHONE = "+447700900123"
STALE = 301  # seconds past the last second factor: more than step_up_max_age (300)


class Stale:
    """Alice with a phone and recovery codes, a pending app set-up and a number being added
    (all made while fresh), and a client whose session passed its second factor too long ago.
    """

    def __init__(self, user: Any, gate: Any, outbox: Any) -> None:
        self.user, self.gate, self.outbox = user, gate, outbox
        self.subject = str(user.pk)
        codes = gate.recovery.generate(self.subject)
        setup = gate.totp.enroll(self.subject, "alice")
        self.enroll_id = gate.start_sms(self.subject, OTHER_PHONE, purpose="enroll").id
        self.secrets = Secrets(setup.secret, codes, last_code(outbox, OTHER_PHONE))
        self.verified_at = gate.clock() - STALE
        self.client = Client()
        self.reset()
        self.before = self.fingerprint()

    def fingerprint(self) -> tuple[object, ...]:
        return sync_fingerprint(self.gate, self.subject, self.secrets.recovery_codes[0])

    def reset(self) -> None:
        """Back to the stale session (a request may have changed it) and no lock."""
        if "_auth_user_id" not in self.client.session:
            self.client.force_login(self.user)
        state = SecondFactorState(
            verified_subject=self.subject, verified_at=self.verified_at, verified_factor="sms"
        )
        session = self.client.session
        session[SESSION_KEY] = state.dump()
        session[EXTRA_KEY] = {"enroll_id": self.enroll_id}
        session.save()
        self.gate.unlock(self.subject)

    def send(self, method: str, url: str, body: dict[str, str], encoding: str) -> Any:
        self.reset()
        sends = len(self.outbox.messages_to(OTHER_PHONE))
        call = getattr(self.client, method.lower())
        if encoding == "json":
            response = call(url, json.dumps(body), content_type="application/json")
        else:
            response = call(url, body) if method == "POST" else call(url)
        where = f"{method} {url} {encoding} {body}"
        assert self.fingerprint() == self.before, f"{where}: the factors changed"
        self.secrets.assert_not_in(response.content.decode(errors="replace"), where)
        state = SecondFactorState.load(self.client.session)
        assert not state.is_fresh(self.subject, self.gate.clock(), 300), f"{where}: now fresh"
        assert len(self.outbox.messages_to(OTHER_PHONE)) == sends, f"{where}: resent"
        return response


def routes(phone_pk: int) -> list[tuple[str, str]]:
    """Every route of otpgate's URLconf, from the URLconf itself."""
    found = []
    for pattern in otpgate_urls.urlpatterns:
        kwargs = {name: phone_pk for name in pattern.pattern.converters}
        found.append((pattern.name, reverse(f"otpgate:{pattern.name}", kwargs=kwargs)))
    return found


@pytest.fixture
def stale(sms_user: Any, gate: Any, outbox: Any) -> Stale:
    return Stale(sms_user, gate, outbox)


def test_no_route_changes_factors_for_a_stale_session(stale: Stale):
    found = routes(stale.user.otpgate_phones.get().pk)
    names = {name for name, _ in found}
    assert {"phone_add", "phone_verify", "phone_remove", "totp_setup", "totp_remove"} <= names
    assert {"recovery", "api_enroll", "api_resend"} <= names
    shapes = body_shapes(stale.secrets.codes(stale.gate.clock()), [THIRD_PHONE, OTHER_PHONE])
    for name, url in found:
        accepts = "json" if name.startswith("api_") else "form"  # the other: one empty body
        for body in shapes:
            stale.send("POST", url, body, accepts)
        stale.send("POST", url, {}, "form" if accepts == "json" else "json")
        for method in CHANGING_METHODS[1:]:
            stale.send(method, url, {}, "json")
            stale.send(method, url, {"code": stale.secrets.totp_code(stale.gate.clock())}, "json")


def test_no_page_shows_the_pending_secret_to_a_stale_session(stale: Stale):
    for name, url in routes(stale.user.otpgate_phones.get().pk):
        response = stale.client.get(url)
        stale.secrets.assert_not_in(response.content.decode(), f"GET {name}")
    assert stale.client.get(reverse("otpgate:totp_setup"))["Location"].startswith("/2fa/verify/")


def test_stale_json_enroll_cannot_regenerate_recovery_codes(stale: Stale):
    """The reported attack: any non-empty ``code`` used to skip the step-up."""
    response = stale.send("POST", "/2fa/api/enroll", {"factor": "recovery", "code": "x"}, "json")
    assert response.status_code == 401
    assert response.json()["code"] == "fresh_otp_required"


def test_stale_session_cannot_confirm_a_pending_app_then_remove_the_phone(stale: Stale):
    """The reported attack: confirming the pending set-up made the session fresh."""
    code = stale.secrets.totp_code(stale.gate.clock())
    page = stale.send("POST", "/2fa/app/", {"action": "confirm", "code": code}, "form")
    assert page["Location"].startswith("/2fa/verify/")
    api = stale.send("POST", "/2fa/api/enroll", {"factor": "totp", "code": code}, "json")
    assert api.status_code == 401
    phone_pk = stale.user.otpgate_phones.get().pk
    removal = stale.send("POST", f"/2fa/phone/{phone_pk}/remove/", {"confirm": "1"}, "form")
    assert removal["Location"].startswith("/2fa/verify/")
    assert stale.user.otpgate_phones.count() == 1


def test_stale_session_cannot_finish_adding_a_number(stale: Stale):
    code = stale.secrets.enroll_code
    page = stale.send("POST", "/2fa/phone/verify/", {"code": code}, "form")
    assert page["Location"].startswith("/2fa/verify/")
    api = stale.send("POST", "/2fa/api/enroll", {"factor": "sms", "code": code}, "json")
    assert api.status_code == 401
    resent = stale.send("POST", "/2fa/api/resend", {"purpose": "enroll"}, "json")
    assert resent.status_code == 401


def test_a_fresh_session_finishes_both_set_ups(client, sms_user, gate, outbox, clock):
    full_login(client, outbox)
    subject = str(sms_user.pk)
    setup = client.post("/2fa/app/", {"action": "start"}).content.decode()
    assert "otpgate-key" in setup
    secret = gate.totp.pending(subject).secret
    assert secret in client.get("/2fa/app/").content.decode().replace(" ", "")
    confirmed = client.post("/2fa/app/", {"action": "confirm", "code": totp_now(secret, clock())})
    assert confirmed["Location"] == "/2fa/"
    assert gate.totp.is_enrolled(subject)
    client.post("/2fa/phone/add/", {"phone": OTHER_PHONE})
    response = client.post("/2fa/phone/verify/", {"action": "resend"})
    assert response.status_code == 429  # a change a fresh session may make (cooldown aside)
    client.post("/2fa/phone/verify/", {"code": last_code(outbox, OTHER_PHONE)})
    assert sorted(gate.credentials.phones(subject)) == sorted([PHONE, OTHER_PHONE])
