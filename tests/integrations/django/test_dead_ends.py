"""No dead ends: every second-step and step-up page has a way back, a user with no factor
that can serve the step is sent to add one, and a factor registered in the core (the toy
PIN) counts as a second factor everywhere."""

from __future__ import annotations

import pytest
from django.test import override_settings

from otpgate.core.factors import register_factor, registry
from tests.factors import PinFactor

from .conftest import full_login, last_code, sign_in

pytestmark = pytest.mark.django_db


class LoginPin(PinFactor):
    """The toy PIN, for everyone, serving sign-in only (never a step-up)."""

    purposes = frozenset({"login"})


@pytest.fixture
def pin():
    factor = register_factor(PinFactor())
    yield factor
    registry.unregister("pin")


@pytest.fixture
def login_pin():
    factor = register_factor(LoginPin())
    yield factor
    registry.unregister("pin")


def test_cancelling_the_second_step_signs_the_user_out(client, sms_user, outbox):
    sign_in(client, "alice", "/secret/")
    code = last_code(outbox)
    page = client.get("/2fa/verify/").content.decode()
    assert 'action="/2fa/verify/cancel/"' in page and "Cancel sign-in" in page
    response = client.post("/2fa/verify/cancel/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session and "otpgate" not in client.session
    # The code sent for the abandoned sign-in opens nothing now.
    response = client.post("/2fa/verify/", {"action": "verify", "code": code})
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_cancelling_a_step_up_goes_back_still_signed_in_never_off_site(
    client, sms_user, outbox, clock
):
    full_login(client, outbox)
    clock.advance(301)
    asking = client.get("/secret/")["Location"]
    assert asking == "/2fa/verify/?next=%2Fsecret%2F"
    page = client.get(asking, HTTP_REFERER="http://testserver/transfer/").content.decode()
    assert 'name="back" value="http://testserver/transfer/"' in page and ">Cancel<" in page
    response = client.post("/2fa/verify/cancel/", {"back": "http://testserver/transfer/"})
    assert response["Location"] == "http://testserver/transfer/"
    assert client.get("/").content == b"PROTECTED home"  # still signed in
    assert client.get("/secret/")["Location"] == asking  # and no fresher than before
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert client.post("/2fa/verify/cancel/", {"back": elsewhere})["Location"] == "/"
    # Coming from the page that asks for the step-up: back to the site's home, not a loop.
    page = client.get(asking, HTTP_REFERER="http://testserver/secret/").content.decode()
    assert 'name="back" value="/"' in page


def test_a_factor_that_cannot_serve_the_step_up_leads_to_adding_one(client, user, login_pin, clock):
    sign_in(client, "nofactor", "/secret/")
    response = client.post("/2fa/verify/", {"action": "verify", "method": "pin", "code": "2468"})
    assert response["Location"] == "/secret/"
    clock.advance(301)
    asking = client.get("/secret/")["Location"]
    response = client.get(asking)
    page = response.content.decode()
    assert response.status_code == 409  # factor_setup_required, not a form that cannot work
    assert "Add one first" in page and 'name="code"' not in page
    assert 'href="/2fa/?next=%2Fsecret%2F"' in page and 'action="/2fa/verify/cancel/"' in page
    manage = client.get("/2fa/?next=%2Fsecret%2F")
    assert manage.status_code == 200 and 'href="/2fa/phone/add/' in manage.content.decode()


def test_a_user_with_no_factor_meets_a_step_up_that_says_what_is_missing(client, user):
    client.force_login(user)
    target = client.get("/secret/")["Location"]
    page = client.get(target).content.decode()
    assert "needs two-step verification" in page and 'href="/2fa/phone/add/' in page
    assert client.get("/2fa/phone/add/").status_code == 200  # the link works


@override_settings(OTPGATE_REQUIRED="all")
def test_a_user_whose_only_factor_is_a_registered_one_counts_as_enrolled(client, user, pin):
    client.force_login(user)  # a session that passed no second factor
    response = client.get("/")
    assert response["Location"].startswith("/2fa/verify/")  # the second step, not set-up
    page = client.get("/2fa/verify/").content.decode()
    assert 'name="method" value="pin"' in page
    api = client.get("/2fa/api/status").json()
    assert api["methods"] == ["pin"] and api["enrollment_required"] is False


class EnrollPin(PinFactor):
    """The toy PIN, which can also be proved while being added."""

    purposes = frozenset({"login", "action", "enroll"})


def test_the_api_adds_a_registered_factor_through_the_core(sms_user, outbox):
    from .test_api import Api

    factor = register_factor(EnrollPin())
    try:
        api = Api()
        api.login()
        api.post("check", {"code": last_code(outbox)})
        assert api.post("enroll", {"factor": "pin"}).json() == {"challenge": None}
        assert api.post("enroll", {"factor": "pin", "code": "1111"}).status_code == 400
        assert api.post("enroll", {"factor": "pin", "code": "2468"}).json() == {"enrolled": "pin"}
    finally:
        registry.unregister(factor.name)


@pytest.mark.parametrize(
    ("configured", "landing"),
    [("/accounts/profile/", "/2fa/"), ("home", "/"), ("/elsewhere/", "/elsewhere/")],
)
def test_the_replay_page_with_nothing_pending_never_lands_on_a_404(
    client, sms_user, outbox, configured, landing
):
    """A new project keeps Django's LOGIN_REDIRECT_URL (/accounts/profile/, no such page):
    otpgate's manage page instead; a URL the site set is honoured."""
    full_login(client, outbox)
    with override_settings(LOGIN_REDIRECT_URL=configured):
        answer = client.get("/2fa/replay/")
    assert answer.status_code == 302 and answer["Location"] == landing


@pytest.mark.parametrize(
    ("configured", "landing"),
    [("/accounts/profile/", "/2fa/"), ("home", "/"), ("/elsewhere/", "/elsewhere/")],
)
def test_a_sign_in_without_next_never_lands_on_a_404(
    client, user, sms_user, outbox, configured, landing
):
    """OtpLoginView with no ?next=, on a new project (LOGIN_REDIRECT_URL left at Django's
    /accounts/profile/, no such page): both a user without a factor (logged in at once) and
    one who passes the second step land on otpgate's manage page, not a 404; a URL the site
    set is honoured, and so is ?next=."""
    with override_settings(LOGIN_REDIRECT_URL=configured):
        assert sign_in(client, "nofactor")["Location"] == landing
        client.logout()
        assert full_login(client, outbox)["Location"] == landing
        client.logout()
        assert sign_in(client, "nofactor", "/elsewhere/")["Location"] == "/elsewhere/"
