"""JSON endpoints, CSRF, bad input (never a 500) and storage outage (503)."""

from __future__ import annotations

import logging

import pytest

from otpgate import MemoryStore, StorageUnavailable
from tests.conftest import PHONE
from tests.integrations.flask.conftest import CSRF, make_app, password_login

H = {"X-CSRFToken": CSRF}


def test_json_second_step(harness):
    client = harness.client()
    started = client.post("/login", json={"username": "alice", "password": "correct horse"})
    assert started.status_code == 202 and started.json["status"] == "second_factor_required"
    status = client.get("/otp/verify", headers={"Accept": "application/json"})
    assert status.json["login"] is True and status.json["methods"] == ["sms"]
    assert status.json["masked_phones"] == ["+33 ••• ••• 5678"] and status.json["challenge"] is None
    sent = client.post("/otp/verify/send", json={}, headers=H)
    assert sent.status_code == 201 and sent.json["challenge"]["attempts_left"] == 5
    wrong = client.post("/otp/verify", json={"method": "sms", "code": "000000"}, headers=H)
    if harness.last_code() != "000000":
        assert wrong.status_code == 400 and wrong.json["code"] == "invalid_code"
        assert wrong.json["attempts_left"] == 4 and wrong.json["challenge"]["attempts_left"] == 4
    done = client.post(
        "/otp/verify", json={"method": "sms", "code": harness.last_code()}, headers=H
    )
    assert done.status_code == 200 and done.json == {
        "status": "verified",
        "factor": "sms",
        "next": "/",
    }
    assert client.get("/account").status_code == 200


def test_csrf_is_required_on_every_form_and_json_call(harness):
    client = harness.client()
    password_login(client)
    assert client.post("/otp/verify/send").status_code == 403
    assert client.post("/otp/verify/send", data={"csrf_token": "wrong"}).status_code == 403
    refused = client.post("/otp/verify/send", json={})
    assert refused.status_code == 403 and refused.json["code"] == "csrf_failed"
    assert client.post("/otp/verify/send", json={}, headers=H).status_code == 201
    assert harness.outbox.messages  # only the one with the token sent anything
    assert len(harness.outbox.messages) == 1


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_check_csrf_in_the_apps_own_views_is_a_403_not_a_500(harness, accept):
    from otpgate.integrations.flask import check_csrf

    @harness.app.post("/mine")
    def mine():
        check_csrf()
        return "done"

    client = harness.client()
    for sent in ({}, {"csrf_token": "wrong"}):
        refused = client.post("/mine", data=sent, headers={"Accept": accept})
        assert refused.status_code == 403
        if accept == "application/json":
            assert refused.content_type == "application/problem+json"
            assert refused.json["code"] == "csrf_failed"
        else:
            assert refused.content_type.startswith("text/html") and "<html" in refused.text
    assert client.post("/mine", data={"csrf_token": CSRF}).text == "done"


BAD_BODIES = [
    ("{not json", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ('"text"', "application/json"),
    ('{"method": "sms", "code": 123456}', "application/json"),
    ('{"method": ["sms"], "code": "123456"}', "application/json"),
    ('{"method": "sms", "code": "' + "1" * 10000 + '"}', "application/json"),
    ('{"method": "sms", "code": "١٢٣٤٥٦"}', "application/json"),
    ('{"method": "sms", "code": "１２３４５６"}', "application/json"),
    ('{"method": "carrier-pigeon", "code": "123456"}', "application/json"),
    ('{"method": "recovery", "code": "\\u0000\\u0000"}', "application/json"),
    ("[" * 5000 + "]" * 5000, "application/json"),  # once a RecursionError, a 500
    ("[" * 50_000 + "]" * 50_000, "application/json"),  # deep enough for Python 3.13 too
    ('{"method": "sms", "code": ' + "[" * 5000 + "]" * 5000 + "}", "application/json"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_bad_json_is_a_4xx(harness, body, content_type):
    client = harness.client()
    password_login(client)
    client.post("/otp/verify/send", json={}, headers=H)
    response = client.post("/otp/verify", data=body, content_type=content_type, headers=H)
    assert 400 <= response.status_code < 500, response.text
    assert response.json["code"] in {
        "malformed_input",
        "unknown_factor",
        "factor_not_enrolled",
        "invalid_code",
        "expired",
    }


@pytest.mark.parametrize(
    "form",
    [
        {"method": "sms", "code": "1" * 10000},
        {"method": "totp", "code": "١٢٣٤٥٦"},
        {"method": "recovery", "code": "ЖЖЖЖ-ЖЖЖЖ-ЖЖЖЖ"},
        {"method": "", "code": ""},
        {},
    ],
)
def test_bad_forms_are_a_4xx_page(harness, form):
    client = harness.client()
    password_login(client)
    response = client.post("/otp/verify", data={"csrf_token": CSRF, **form})
    assert 400 <= response.status_code < 500
    assert 'role="alert"' in response.text


@pytest.mark.parametrize(
    "phone", ["x" * 10000, "+1 900 555 0100", "+44 800 123 4567", "١٢٣", "not a number", ""]
)
def test_bad_phone_numbers_are_a_4xx(harness, phone):
    client = harness.client()
    password_login(client, "bob")
    response = client.post("/otp/phone", json={"phone": phone}, headers=H)
    assert 400 <= response.status_code < 500
    assert response.json["code"] in {"phone_invalid", "phone_type_not_allowed", "malformed_input"}


def test_bad_transaction_headers_are_a_4xx(harness):
    from tests.integrations.flask.test_transactions import TRANSFER, api

    client = harness.client()
    from tests.integrations.flask.conftest import sms_login

    sms_login(harness, client)
    for challenge, code in [("x" * 10000, "123456"), ("nonsense", "123456"), ("a.b", "١٢٣٤٥٦")]:
        response = api(client, TRANSFER, challenge, code)
        assert 400 <= response.status_code < 500
    assert harness.executed == []


class DownStore(MemoryStore):
    """A store whose every method raises StorageUnavailable (Redis down, say)."""

    def __getattribute__(self, name):
        if name.startswith("_"):
            return super().__getattribute__(name)

        def down(*args, **kwargs):
            raise StorageUnavailable()

        return down


def test_storage_outage_is_a_503_never_a_pass(clock, outbox, caplog):
    harness = make_app(clock, outbox, store=DownStore())
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.client()
    caplog.set_level(logging.DEBUG)
    password_login(client)
    page = client.post("/otp/verify/send", data={"csrf_token": CSRF})
    assert page.status_code == 503 and "unavailable" in page.text
    api = client.post("/otp/verify", json={"method": "sms", "code": "123456"}, headers=H)
    assert api.status_code in {410, 503}
    api = client.post("/otp/verify/send", json={}, headers=H)
    assert api.status_code == 503 and api.json["code"] == "storage_unavailable"
    assert client.get("/dashboard").status_code == 302  # never signed in
    assert PHONE not in caplog.text


def test_credentials_outage_is_a_503(clock, outbox, tmp_path):
    from sqlalchemy.engine import create_engine

    from otpgate.sqlalchemy import SQLAlchemyCredentials

    engine = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    harness = make_app(clock, outbox, credentials=SQLAlchemyCredentials(engine))
    client = harness.client()
    response = password_login(client)  # begin_login asks for the factors
    assert response.status_code == 503
    api = client.post("/login", json={"username": "alice", "password": "correct horse"})
    assert api.status_code == 503 and api.json["code"] == "storage_unavailable"
    engine.dispose()


def test_codes_and_numbers_never_reach_logs_or_responses(harness, caplog):
    caplog.set_level(logging.DEBUG)
    client = harness.client()
    password_login(client)
    sent = client.post("/otp/verify/send", json={}, headers=H)
    code = harness.last_code()
    wrong = client.post("/otp/verify", json={"method": "sms", "code": "999999"}, headers=H)
    page = client.get("/otp/verify?method=sms")
    for response in (sent, wrong, page):
        assert code not in response.text and PHONE not in response.text
    assert code not in caplog.text and PHONE not in caplog.text
