"""The factor model in the Django integration: the second step opens on the preferred factor
(no SMS for a user with an app), the user changes the preference, and a factor registered at
test time is offered and usable with no integration change."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from otpgate.core.factors import register_factor, registry
from tests.factors import PinFactor as ToyPin

from .conftest import PASSWORD, PHONE, last_code, sign_in
from .helpers import totp_now
from .test_api import Api

pytestmark = pytest.mark.django_db


def with_app(gate, clock, user) -> str:
    setup = gate.totp.enroll(str(user.pk))
    gate.totp.confirm(str(user.pk), totp_now(setup.secret, clock()))
    clock.advance(30)  # the confirming code is spent
    return setup.secret


def test_a_user_with_an_app_signs_in_with_no_sms_sent(client, sms_user, gate, clock, outbox):
    secret = with_app(gate, clock, sms_user)
    assert sign_in(client, "alice", "/secret/")["Location"] == "/2fa/verify/"
    page = client.get("/2fa/verify/")
    body = page.content.decode()
    assert outbox.messages == []
    assert 'name="method" value="totp"' in body and "authenticator app" in body
    assert "?method=sms" in body  # SMS stays one click away
    code = totp_now(secret, clock())
    response = client.post("/2fa/verify/", {"action": "verify", "code": code})
    assert response["Location"] == "/secret/"
    assert client.session["_auth_user_id"] == str(sms_user.pk)
    assert outbox.messages == []


def test_choosing_sms_on_the_page_sends_one(client, sms_user, gate, clock, outbox):
    with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    assert "Send code" in client.get("/2fa/verify/?method=sms").content.decode()
    assert outbox.messages == []
    client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    response = client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_an_unknown_factor_falls_back_to_the_preferred_one(client, sms_user, gate, clock):
    with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    body = client.get("/2fa/verify/?method=pigeon").content.decode()
    assert 'name="method" value="totp"' in body


def test_the_preference_is_changed_on_the_management_page(client, sms_user, gate, clock, outbox):
    with_app(gate, clock, sms_user)
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    client.post("/2fa/verify/", {"action": "verify", "method": "sms", "code": last_code(outbox)})
    page = client.get("/2fa/").content.decode()
    assert 'action="/2fa/preferred/"' in page and '<option value="totp" selected>' in page
    clock.advance(3600)  # not a change of factors: no fresh step-up needed
    assert client.post("/2fa/preferred/", {"factor": "sms"})["Location"] == "/2fa/"
    assert gate.preferred_factor(str(sms_user.pk)) == "sms"
    client.logout()
    sent = len(outbox.messages)
    sign_in(client, "alice")
    assert len(outbox.messages) == sent + 1  # SMS preferred: sent at once
    assert client.session["otpgate"]["pending_method"] == "sms"


def test_changing_the_preference_needs_a_passed_second_factor_and_csrf(
    sms_user, gate, clock, outbox
):
    secret = with_app(gate, clock, sms_user)
    client = Client()
    client.force_login(sms_user)  # never passed a second factor
    response = client.post("/2fa/preferred/", {"factor": "sms"})
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")
    assert gate.preferred_factor(str(sms_user.pk)) == "totp"
    api = Api()  # enforces CSRF
    api.login()
    assert api.post("check", {"code": totp_now(secret, clock())}).status_code == 200
    assert api.client.post("/2fa/preferred/", {"factor": "sms"}).status_code == 403
    assert gate.preferred_factor(str(sms_user.pk)) == "totp"
    data = {"factor": "sms", "csrfmiddlewaretoken": api.token()}
    assert api.client.post("/2fa/preferred/", data).status_code == 302
    assert gate.preferred_factor(str(sms_user.pk)) == "sms"


def test_the_api_lists_factors_preferred_first_and_changes_the_preference(
    sms_user, gate, clock, outbox
):
    secret = with_app(gate, clock, sms_user)
    api = Api()
    api.login()
    status = api.status()
    assert status["methods"] == ["totp", "sms", "recovery"][: len(status["methods"])]
    assert status["factors"][0]["name"] == "totp" and status["factors"][0]["preferred"]
    assert outbox.messages == []
    assert api.post("preferred", {"factor": "sms"}).status_code == 401
    response = api.post("check", {"code": totp_now(secret, clock())})  # the preferred one
    assert response.status_code == 200 and response.json()["factor"] == "totp"
    answer = api.post("preferred", {"factor": "sms"}).json()
    assert answer["preferred"] == "sms" and answer["factors"][0]["name"] == "sms"
    assert api.post("preferred", {"factor": "pigeon"}).json()["code"] == "malformed_input"
    assert api.post("preferred", {"factor": "sms"}, csrf=False).status_code == 403
    assert api.post("preferred", {"factor": None}).json()["preferred"] == "totp"


def preferred_menu(page: str) -> list[str]:
    """The factor names the management page's "preferred" menu offers."""
    menu = re.search(r'<select id="otpgate-preferred".*?</select>', page, re.S)
    return re.findall(r'<option value="([^"]+)"', menu.group(0)) if menu else []


def test_a_recovery_code_is_never_offered_nor_taken_as_the_preferred_factor(
    sms_user, gate, clock, outbox
):
    secret = with_app(gate, clock, sms_user)
    gate.recovery.generate(str(sms_user.pk))
    api = Api()
    api.login()
    assert api.post("check", {"code": totp_now(secret, clock())}).status_code == 200
    assert [f["name"] for f in api.status()["factors"]][-1] == "recovery"  # still offered
    page = api.client.get("/2fa/").content.decode()
    assert preferred_menu(page) == ["totp", "sms"]  # recovery (and a call) never listed
    data = {"factor": "recovery", "csrfmiddlewaretoken": api.token()}
    refused = api.client.post("/2fa/preferred/", data)
    assert refused.status_code == 409
    assert "cannot be your preferred one" in refused.content.decode()
    answer = api.post("preferred", {"factor": "recovery"})
    assert answer.status_code == 409 and answer.json()["code"] == "factor_not_preferable"
    assert gate.preferred_factor(str(sms_user.pk)) == "totp"
    assert gate.credentials.preferred_factor(str(sms_user.pk)) is None  # nothing stored
    factors = api.post("preferred", {"factor": "sms"}).json()["factors"]
    assert [(f["name"], f["preferable"]) for f in factors] == [
        ("sms", True),
        ("totp", True),
        ("recovery", False),
    ]


def test_with_one_factor_that_may_be_preferred_there_is_no_menu(client, sms_user, outbox, gate):
    gate.recovery.generate(str(sms_user.pk))  # a phone and its recovery codes
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "verify", "method": "sms", "code": last_code(outbox)})
    page = client.get("/2fa/").content.decode()
    assert "10 unused recovery codes." in page and preferred_menu(page) == []


class PinFactor(ToyPin):
    """The toy PIN factor, for users with a phone."""

    def enrolled(self, factors):
        return bool(factors.masked_phones)


@pytest.fixture
def pin():
    factor = register_factor(PinFactor())
    yield factor
    registry.unregister("pin")


def test_a_factor_registered_at_test_time_is_offered_and_usable(client, sms_user, pin, outbox):
    sign_in(client, "alice", "/secret/")
    page = client.get("/2fa/verify/").content.decode()
    assert "?method=pin" in page  # offered after SMS (weaker)
    page = client.get("/2fa/verify/?method=pin").content.decode()
    assert 'name="method" value="pin"' in page and 'maxlength="4"' in page
    wrong = client.post("/2fa/verify/", {"action": "verify", "method": "pin", "code": "1111"})
    assert wrong.status_code == 400 and "_auth_user_id" not in client.session
    response = client.post("/2fa/verify/", {"action": "verify", "method": "pin", "code": "2468"})
    assert response["Location"] == "/secret/"
    assert client.session["otpgate"]["verified_factor"] == "pin"


def test_a_registered_factor_is_preferred_and_checked_through_the_api(sms_user, gate, pin, outbox):
    gate.set_preferred_factor(str(sms_user.pk), "pin")
    api = Api()
    sent = len(outbox.messages)
    api.login()
    assert len(outbox.messages) == sent  # the preferred factor sends nothing
    status = api.status()
    assert status["methods"][0] == "pin"
    assert status["factors"][0]["input"]["length"] == 4
    response = api.post("check", {"code": "2468"})
    assert response.status_code == 200 and response.json()["factor"] == "pin"
    assert PHONE not in "".join(api.bodies)
