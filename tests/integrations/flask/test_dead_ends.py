"""No dead ends: every second-step and step-up page has a way back, a user with no factor
that can serve the step is sent to add one, and a factor registered in the core (the toy
PIN) counts as a second factor everywhere."""

from __future__ import annotations

import pytest

from otpgate import register_factor
from otpgate.core.factors import registry
from tests.factors import PinFactor
from tests.integrations.flask.conftest import CSRF, password_login, sms_login

H = {"Accept": "application/json", "X-CSRFToken": CSRF}


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


def test_cancelling_the_second_step_leaves_the_user_signed_out(harness):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    page = client.get("/otp/verify?method=sms").text
    assert 'action="/otp/verify/cancel"' in page and "Cancel sign-in" in page
    response = client.post("/otp/verify/cancel", data={"csrf_token": CSRF})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    code = {"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    assert client.post("/otp/verify", data=code).headers["Location"].startswith("/login")
    assert client.get("/dashboard").status_code == 302  # signed out


def test_cancelling_a_step_up_goes_back_still_signed_in_never_off_site(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    asking = client.get("/settings").headers["Location"]
    assert asking.startswith("/otp/verify?next=")
    page = client.get(asking, headers={"Referer": "http://localhost/dashboard"}).text
    assert 'name="back" value="http://localhost/dashboard"' in page and ">Cancel<" in page
    back = {"csrf_token": CSRF, "back": "http://localhost/dashboard", "next": "/settings"}
    response = client.post("/otp/verify/cancel", data=back)
    assert response.status_code == 303 and response.headers["Location"] == back["back"]
    assert client.get("/dashboard").status_code == 200  # still signed in
    assert client.get("/settings").status_code in {302, 303}  # and no fresher than before
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        data = {"csrf_token": CSRF, "back": elsewhere}
        assert client.post("/otp/verify/cancel", data=data).headers["Location"] == "/"
    answer = client.post("/otp/verify/cancel", json={"back": "/dashboard"}, headers=H)
    assert answer.json == {"status": "canceled", "next": "/dashboard"}
    # Coming from the page that asks for the step-up: the home page, not a loop.
    page = client.get(asking, headers={"Referer": "http://localhost/settings"}).text
    assert 'name="back" value="/"' in page


def test_a_factor_that_cannot_serve_the_step_up_leads_to_adding_one(harness, login_pin):
    client = harness.client()
    password_login(client, "bob")  # bob's only factor: the PIN, for sign-in only
    code = {"csrf_token": CSRF, "method": "pin", "code": "2468"}
    assert client.post("/otp/verify", data=code).status_code == 303
    harness.clock.advance(301)
    asking = client.get("/settings").headers["Location"]
    response = client.get(asking)
    assert response.status_code == 409  # factor_setup_required, not a form that cannot work
    assert "Add one first" in response.text and 'name="code"' not in response.text
    assert 'href="/otp/"' in response.text and 'action="/otp/verify/cancel"' in response.text
    answer = client.get("/otp/verify", headers=H)
    assert answer.status_code == 409 and answer.json["code"] == "factor_setup_required"
    assert answer.json["add_factor_url"] == "/otp/"
    assert answer.json["cancel_url"] == "/otp/verify/cancel"
    manage = client.get("/otp/")  # the link works
    assert manage.status_code == 200 and "Add a phone number" in manage.text


def test_a_user_with_no_factor_meets_a_step_up_that_says_what_is_missing(harness):
    client = harness.client()
    password_login(client, "bob")  # no factor: signed in at once
    response = client.get("/settings")
    assert response.headers["Location"] == "/otp/"
    page = client.get("/otp/").text
    assert "Set up a second factor to continue." in page and "Add a phone number" in page


def test_a_user_whose_only_factor_is_a_registered_one_counts_as_enrolled(harness, pin):
    client = harness.client()
    response = password_login(client, "bob")
    assert response.headers["Location"] == "/otp/verify"  # the second step, not signed in
    assert client.get("/dashboard").status_code == 302
    assert client.get("/otp/verify", headers=H).json["methods"] == ["pin"]
    code = {"csrf_token": CSRF, "method": "pin", "code": "2468"}
    assert client.post("/otp/verify", data=code).status_code == 303
    assert client.get("/settings").status_code == 200
