"""A session that passed only the password never reaches a protected view."""

from __future__ import annotations

import pytest
from flask_login import login_user

from tests.integrations.flask.conftest import CSRF, User, password_login

PUBLIC = {"static", "home", "login", "logout"}


def protected_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.startswith("otpgate.") or "legacy" in rule.rule:
            continue
        yield rule


def call(client, rule):
    method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return client.open(
        rule.rule,
        method=method,
        data={"csrf_token": CSRF, "amount": "10.00", "payee": "Mallory"},
    )


def test_the_app_has_protected_views_to_try(harness):
    endpoints = {rule.endpoint for rule in protected_rules(harness.app)}
    assert {"dashboard", "account", "settings_page", "transfer", "async_settings"} <= endpoints


@pytest.mark.parametrize("how", ["begin_login", "login_user_directly"])
def test_password_only_session_reaches_no_protected_view(harness, how):
    client = harness.client()
    if how == "begin_login":
        password_login(client)
    else:
        # An app (or a remember-me cookie) signing in by password alone, bypassing otpgate.
        @harness.app.get("/legacy-login")
        def legacy_login():
            login_user(User("alice"))
            return "signed in the old way"

        assert client.get("/legacy-login").status_code == 200
    for rule in protected_rules(harness.app):
        if rule.endpoint == "legacy_login":
            continue
        response = call(client, rule)
        assert response.status_code in {302, 303, 401}, (rule.rule, response.status_code)
        for content in ("sensitive settings", "dashboard for", "account (", "executed", "ok"):
            assert content not in response.text
    assert harness.executed == []
    # ...and the session was handed over to the second step.
    assert client.get("/otp/verify").status_code == 200


def test_enumeration_in_json_gets_401_with_a_code(harness):
    client = harness.client()
    password_login(client)
    for rule in protected_rules(harness.app):
        response = client.open(
            rule.rule, method="GET" if "GET" in rule.methods else "POST", json={}
        )
        assert response.status_code == 401, rule.rule


def test_guard_turns_a_bypassing_login_into_a_pending_second_step(harness):
    @harness.app.get("/legacy-login")
    def legacy_login():
        login_user(User("alice"))
        return "ok"

    client = harness.client()
    client.get("/legacy-login")
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/otp/verify"
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    done = client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    )
    assert done.headers["Location"] == "/dashboard"  # back where it was going
    assert client.get("/dashboard").status_code == 200


def test_guard_can_be_switched_off(clock, outbox):
    from tests.integrations.flask.conftest import make_app

    harness = make_app(clock, outbox, OTPGATE_ENFORCE=False)

    @harness.app.get("/legacy-login")
    def legacy_login():
        login_user(User("alice"))
        return "ok"

    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    client = harness.client()
    client.get("/legacy-login")
    assert client.get("/dashboard").status_code == 200  # the app's own business now
    assert client.get("/account").status_code == 303  # the decorators still hold
