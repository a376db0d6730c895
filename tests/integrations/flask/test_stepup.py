"""@otp_required and @fresh_otp: detours for pages, 401 codes for API calls, async views."""

from __future__ import annotations

from tests.integrations.flask.conftest import CSRF, password_login, sms_login


def step_up(harness, client, next_url):
    client.post("/otp/verify/send", data={"csrf_token": CSRF, "next": next_url})
    return client.post(
        "/otp/verify",
        data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code(), "next": next_url},
    )


def test_fresh_view_opens_after_sign_in_and_closes_after_max_age(harness):
    client = harness.client()
    sms_login(harness, client)
    assert client.get("/settings").text == "sensitive settings"
    harness.clock.advance(301)
    response = client.get("/settings")
    assert response.status_code == 303
    assert response.headers["Location"] == "/otp/verify?next=/settings"
    assert client.get("/account").status_code == 200  # otp_required has no age
    page = client.get(response.headers["Location"])
    assert "This action needs a fresh confirmation" in page.text
    done = step_up(harness, client, "/settings")
    assert done.status_code == 303 and done.headers["Location"] == "/settings"
    assert client.get("/settings").status_code == 200
    with client.session_transaction() as session:
        assert session["_user_id"] == "alice"  # step-up keeps the sign-in


def test_step_up_next_stays_on_this_host(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    done = step_up(harness, client, "https://evil.example/steal")
    assert done.headers["Location"] == "/otp/"


def test_api_calls_get_401_with_machine_readable_codes(harness):
    client = harness.client()
    assert client.get("/settings", headers={"Accept": "application/json"}).json["code"] == (
        "login_required"
    )
    sms_login(harness, client)
    harness.clock.advance(301)
    response = client.get("/settings", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["code"] == "fresh_otp_required"
    assert (
        response.json["max_age"] == 300 and 'max_age="300"' in response.headers["WWW-Authenticate"]
    )
    assert response.json["verify_url"] == "/otp/verify"
    assert response.headers["Content-Type"] == "application/problem+json"


def test_user_without_factor_is_sent_to_set_up(harness):
    client = harness.client()
    password_login(client, "bob")
    response = client.get("/account")
    assert response.status_code == 303 and response.headers["Location"] == "/otp/"
    assert "Set up a second factor" in client.get("/otp/").text
    api = client.get("/account", headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.json["code"] == "enrollment_required"


def test_async_views(harness):
    client = harness.client()
    sms_login(harness, client)
    assert client.get("/async-settings").text == "async sensitive settings"
    assert client.get("/async-account").json == {"ok": True}
    harness.clock.advance(301)  # default max_age: OTPGATE_STEP_UP_MAX_AGE (300)
    assert client.get("/async-settings").status_code == 303
    assert client.get("/async-account").status_code == 200


def test_step_up_max_age_setting_is_the_default(clock, outbox):
    from tests.integrations.flask.conftest import make_app

    harness = make_app(clock, outbox, OTPGATE_STEP_UP_MAX_AGE=60)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(61)
    assert client.get("/async-settings").status_code == 303
    assert client.get("/settings").status_code == 200  # this one asks for 300 s
