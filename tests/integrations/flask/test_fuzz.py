"""Malformed bodies and odd methods on every route of otpgate's blueprint (from the url_map).

Whatever arrives, as an anonymous, a pending-second-step or a signed-in session: never a 5xx;
a body the parser cannot take safely is a 400 ``malformed_input`` on every route; an answer
that refuses changes nothing (no SMS sent, no factor changed); HEAD and OPTIONS never take a
state-changing branch, whatever body they carry.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import PHONE
from tests.fuzz import FORM, JSON, ODD, REFUSED, Body
from tests.integrations.flask.conftest import CSRF, Harness, password_login, sms_login

H = {"X-CSRFToken": CSRF}


def otpgate_routes(harness: Harness) -> list[tuple[str, str]]:
    """(path, method) of every rule of otpgate's blueprint, from the app's url_map."""
    found = [
        (rule.rule, method)
        for rule in harness.app.url_map.iter_rules()
        if rule.endpoint.startswith("otpgate.")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    assert len(found) >= 12  # the blueprint's rules take no URL arguments
    return found


def sessions(harness: Harness) -> dict[str, Any]:
    """An anonymous client, a pending second step (alice), a fresh sign-in (alice), and a
    signed-in user without any factor (bob, who may add a phone without a step-up)."""
    pending, signed_in, no_factor = harness.client(), harness.client(), harness.client()
    password_login(pending)
    sms_login(harness, signed_in)
    password_login(no_factor, "bob")
    return {
        "anonymous": harness.client(),
        "pending": pending,
        "signed in": signed_in,
        "no factor": no_factor,
    }


def snapshot(harness: Harness) -> tuple[object, ...]:
    """What a refused request must leave alone: the messages sent and everyone's factors."""
    credentials = harness.credentials
    return (
        len(harness.outbox.messages),
        *(
            (
                credentials.phones(user),
                credentials.get_totp(user),
                credentials.recovery_codes_left(user),
            )
            for user in ("alice", "bob", "carol")
        ),
    )


def send(client: Any, method: str, path: str, body: Body) -> Any:
    raw, content_type = body
    return client.open(path, method=method, data=raw, content_type=content_type, headers=H)


@pytest.mark.parametrize("name", list(REFUSED))
def test_bodies_the_parser_cannot_take_are_400_everywhere(harness: Harness, name: str):
    clients = sessions(harness)
    for session, client in clients.items():
        for path, method in otpgate_routes(harness):
            before = snapshot(harness)
            response = send(client, method, path, REFUSED[name])
            where = f"{name}: {session} {method} {path}"
            assert response.status_code == 400, f"{where} -> {response.status_code}"
            if REFUSED[name][1] == JSON:
                assert response.json["code"] == "malformed_input", where
            assert snapshot(harness) == before, where


@pytest.mark.parametrize("name", list(ODD))
def test_odd_values_never_a_5xx_and_refusals_change_nothing(harness: Harness, name: str):
    for session, client in sessions(harness).items():
        for path, method in otpgate_routes(harness):
            before = snapshot(harness)
            response = send(client, method, path, ODD[name])
            where = f"{name}: {session} {method} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert snapshot(harness) == before, where


STATE_CHANGING = {"phone": "+33 6 98 76 54 32", "method": "sms", "code": "123456", "index": "0"}
STATE_CHANGING_BODIES: list[Body] = [
    (urlencode({**STATE_CHANGING, "csrf_token": CSRF}).encode(), FORM),
    (json.dumps(STATE_CHANGING).encode(), JSON),
]


@pytest.mark.parametrize("verb", ["HEAD", "OPTIONS"])
@pytest.mark.parametrize("body", STATE_CHANGING_BODIES, ids=["form", "json"])
def test_head_and_options_with_a_body_change_nothing(harness: Harness, verb: str, body: Body):
    """A body-carrying HEAD once ran the POST branch (and skipped CSRF): an enrollment SMS."""
    clients = sessions(harness)
    for client in clients.values():
        client.post("/otp/verify/send", json={}, headers=H)  # a challenge to guess at
    for session, client in clients.items():
        for path in {path for path, _method in otpgate_routes(harness)}:
            before = snapshot(harness)
            response = send(client, verb, path, body)
            where = f"{session} {verb} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            assert snapshot(harness) == before, where
    pending = clients["pending"]
    status = pending.get("/otp/verify", headers={"Accept": JSON})
    assert status.json["challenge"]["attempts_left"] == 5  # no guess was counted


@pytest.mark.parametrize(
    "phone",
    ["+33 ⁶¹²³⁴⁵⁶⁷⁸", "+٣٣ ٦١٢٣٤٥٦٧٨\u200b", f"{PHONE}\x00", f"\x00{PHONE}", "+33 6\t12345678"],
)
def test_phone_numbers_with_non_digits_or_controls_send_nothing(harness: Harness, phone):
    client = harness.client()
    password_login(client, "bob")
    response = client.post("/otp/phone", json={"phone": phone}, headers=H)
    assert response.status_code == 422 and response.json["code"] == "phone_invalid"
    assert harness.outbox.messages == []


@pytest.mark.parametrize(
    "phone",
    [
        "+٣٣ ٦ ٩٨ ٧٦ ٥٤ ٣٢",
        "＋３３ ６９８７６５４３２",
        "+۳۳۶۹۸۷۶۵۴۳۲",
    ],  # Arabic-Indic, fullwidth, Persian
)
def test_phone_numbers_in_other_digits_are_read(harness: Harness, phone):
    client = harness.client()
    password_login(client, "bob")
    response = client.post("/otp/phone", json={"phone": phone}, headers=H)
    assert response.status_code == 201, response.json
    assert harness.outbox.last_code_for("+33698765432")


def test_a_large_body_of_undeclared_length_is_refused(harness: Harness):
    """A chunked body (no Content-Length) is read at most up to the bound, then refused."""
    client = harness.client()
    password_login(client, "bob")
    padded = b'{"phone": "+33 6 98 76 54 32"' + b" " * 1_000_000 + b"}"
    response = client.post(
        "/otp/phone",
        input_stream=io.BytesIO(padded),
        content_type=JSON,
        headers=H,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 400 and response.json["code"] == "malformed_input"
    assert harness.outbox.messages == []
