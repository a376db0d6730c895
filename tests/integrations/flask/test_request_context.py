"""The guard and ``@otp_required`` read the request context itself (issue 17: no werkzeug
proxy per ``request`` / ``session`` on every page): the same objects the proxies stand for,
and the same answers through Flask's ``request_ctx`` proxy when Flask has no context
variable to read."""

from __future__ import annotations

import pytest
from flask import current_app, request, session
from flask_login import login_user

from otpgate.integrations.flask import gate_state, web
from tests.integrations.flask.conftest import User, password_login, sms_login


def test_the_context_is_the_one_the_proxies_stand_for(harness):
    with harness.app.test_request_context("/dashboard"):
        context = web.request_context()
        assert context.request is request._get_current_object()
        assert context.session is session._get_current_object()
        assert context.app is current_app._get_current_object()


def test_outside_a_request_it_raises_as_the_proxies_do(harness):
    with pytest.raises(RuntimeError):
        web.request_context()
    with harness.app.app_context(), pytest.raises(RuntimeError):
        web.request_context()


@pytest.fixture(params=["context variable", "request_ctx proxy"])
def reader(request, monkeypatch):
    if request.param == "request_ctx proxy":
        monkeypatch.setattr(web, "_REQUEST_CONTEXT", None)
    return request.param


def test_the_guard_decides_the_same_either_way(harness, reader):
    @harness.app.get("/legacy-login")
    def legacy_login():
        login_user(User("alice"))  # password alone, bypassing otpgate
        return "signed in the old way"

    for path in ("/dashboard", "/account"):
        bypassing = harness.client()
        bypassing.get("/legacy-login")
        response = bypassing.get(path)  # signed out, sent to the second step
        assert response.status_code == 303 and "/otp/verify" in response.headers["Location"]
        assert bypassing.get(path).status_code == 302  # to the sign-in: signed out
    passed = harness.client()
    sms_login(harness, passed)
    assert "dashboard for" in passed.get("/dashboard").text
    assert "account (" in passed.get("/account").text
    no_factor = harness.client()
    password_login(no_factor, "bob")
    assert "dashboard for" in no_factor.get("/dashboard").text
    assert no_factor.get("/account").status_code in {302, 303}  # set-up first


@pytest.mark.parametrize("shortcut", [True, False])
def test_the_signed_in_subject_follows_sign_ins_and_outs_in_the_request(
    harness, monkeypatch, shortcut
):
    from flask_login import logout_user

    from otpgate.integrations.flask import users

    if not shortcut:
        monkeypatch.setattr(users, "_APP_CONTEXT", None)  # through current_user
    seen = []

    @harness.app.get("/switch")
    def switch():
        hooks = gate_state().users
        seen.append(hooks.current_subject())  # loads the user
        seen.append(hooks.current_subject())  # the loaded one
        logout_user()
        seen.append(hooks.current_subject())
        login_user(User("bob"))
        seen.append(hooks.current_subject())
        return "switched"

    client = harness.client()
    sms_login(harness, client)
    assert client.get("/switch").text == "switched"
    assert seen == ["alice", "alice", None, "bob"]
    with harness.app.app_context():  # no request: nobody signed in
        assert gate_state().users.current_subject() is None


@pytest.mark.parametrize("shortcut", [True, False])
def test_a_remember_me_cookie_alone_is_sent_to_the_second_step(harness, monkeypatch, shortcut):
    from otpgate.integrations.flask import users

    if not shortcut:
        monkeypatch.setattr(users, "_APP_CONTEXT", None)

    @harness.app.get("/legacy-remember")
    def legacy_remember():
        login_user(User("alice"), remember=True)  # password alone, remember-me cookie
        return "remembered the old way"

    first = harness.client()
    first.get("/legacy-remember")
    token = first.get_cookie("remember_token")
    assert token is not None
    returning = harness.client()  # a new browser session: the remember-me cookie only
    returning.set_cookie("remember_token", token.value)
    response = returning.get("/dashboard")
    assert response.status_code == 303 and "/otp/verify" in response.headers["Location"]
    assert "dashboard for" not in returning.get("/dashboard").text


@pytest.mark.parametrize("loader", ["sets nothing", "absent"])
def test_a_flask_login_keeping_its_user_elsewhere_is_asked_through_current_user(
    harness, monkeypatch, loader
):
    """Should a Flask-Login keep the user elsewhere than ``g._login_user``, the subject is
    still what its ``current_user`` says (never "nobody" by mistake)."""
    import flask_login.utils

    monkeypatch.setattr(flask_login.utils, "_get_user", lambda: User("carol"))
    manager = harness.app.login_manager
    monkeypatch.setattr(manager, "_load_user", (lambda: None) if loader == "sets nothing" else None)
    with harness.app.test_request_context("/dashboard"):
        assert gate_state().users.current_subject() == "carol"
