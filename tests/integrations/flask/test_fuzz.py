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

import pytest

from tests.conftest import PHONE
from tests.integrations.flask.conftest import CSRF, Harness, password_login, sms_login

H = {"X-CSRFToken": CSRF}
DEEP = "[" * 5000 + "]" * 5000
FIELDS = ("method", "code", "phone", "index", "next", "action")
JSON = "application/json"


def _json(text: str | bytes) -> dict[str, Any]:
    return {"data": text, "content_type": JSON}


#: Bodies the parser must refuse, on every route and method: 400 malformed_input.
REFUSED: dict[str, dict[str, Any]] = {
    "deep array": _json(DEEP),
    "deeper than any Python parses": _json("[" * 50_000 + "]" * 50_000),
    "deep in a field": _json('{"code": ' + DEEP + "}"),
    "deep object": _json('{"a":' * 5000 + "1" + "}" * 5000),
    "1 MB of JSON": _json('{"code": "' + "1" * 1_000_000 + '"}'),
    "1 MB form": {"data": {"code": "1" * 1_000_000, "csrf_token": CSRF}},
    "2 MB of bytes": {"data": b"\0" * 2_000_000, "content_type": "application/octet-stream"},
    "invalid UTF-8": _json(b'{"code": "\xff\xfe123456"}'),
    "a list": _json('[{"method": "sms"}]'),
    "a number": _json("123456"),
    "null": _json("null"),
    "a string": _json('"123456"'),
    "broken": _json('{"code": "123456"'),
    "NaN": _json('{"method": "sms", "code": NaN}'),
}

ODD_VALUES: list[object] = [
    [],
    123456,
    None,
    {"code": "123456"},
    True,
    "١٢٣٤٥٦",
    "１２３４５６",
    "+33 ６１２３４５６７８",
    "\x00",
    "123456\x00",
    "[" * 5000,
    "x" * 5000,
]

#: Bodies well formed as a whole, with odd values: no 5xx, and a refusal changes nothing.
ODD: dict[str, dict[str, Any]] = {
    **{f"json {v!r:.20}": _json(json.dumps(dict.fromkeys(FIELDS, v))) for v in ODD_VALUES},
    **{
        f"form {v!r:.20}": {"data": {**dict.fromkeys(FIELDS, v), "csrf_token": CSRF}}
        for v in ODD_VALUES
        if isinstance(v, str)
    },
    "form, invalid UTF-8": {
        "data": b"method=sms&code=\xff\xfe&phone=%FF%FE&index=\xff",
        "content_type": "application/x-www-form-urlencoded",
    },
    "json as text/plain": {"data": '{"method": "sms"}', "content_type": "text/plain"},
    "xml": {"data": "<code>123456</code>", "content_type": "application/xml"},
    "multipart file": {
        "data": {"code": (io.BytesIO(b"123456"), "code.txt"), "csrf_token": CSRF},
        "content_type": "multipart/form-data",
    },
    "json charset": {"data": '{"code": "123456"}', "content_type": "application/json; charset=x"},
}


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


def send(client: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    data = body["data"]
    if isinstance(data, dict):  # a fresh file object per request
        data = {
            k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v
            for k, v in data.items()
        }
    return client.open(
        path, method=method, data=data, content_type=body.get("content_type"), headers=H
    )


@pytest.mark.parametrize("name", list(REFUSED))
def test_bodies_the_parser_cannot_take_are_400_everywhere(harness: Harness, name: str):
    clients = sessions(harness)
    for session, client in clients.items():
        for path, method in otpgate_routes(harness):
            before = snapshot(harness)
            response = send(client, method, path, REFUSED[name])
            where = f"{name}: {session} {method} {path}"
            assert response.status_code == 400, f"{where} -> {response.status_code}"
            if REFUSED[name].get("content_type") == JSON:
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


STATE_CHANGING_BODIES = [
    {"data": {"csrf_token": CSRF, "phone": "+33 6 98 76 54 32", "method": "sms", "code": "1"}},
    _json(json.dumps({"phone": "+33 6 98 76 54 32", "method": "sms", "code": "123456"})),
]


@pytest.mark.parametrize("verb", ["HEAD", "OPTIONS"])
@pytest.mark.parametrize("body", STATE_CHANGING_BODIES, ids=["form", "json"])
def test_head_and_options_with_a_body_change_nothing(harness: Harness, verb: str, body: dict):
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
    ["+33 ６１２３４５６７８", "+٣٣ ٦١٢٣٤٥٦٧٨", f"{PHONE}\x00", f"\x00{PHONE}", "+33 6\t12345678"],
)
def test_phone_numbers_in_other_scripts_or_with_controls_send_nothing(harness: Harness, phone):
    client = harness.client()
    password_login(client, "bob")
    response = client.post("/otp/phone", json={"phone": phone}, headers=H)
    assert response.status_code == 422 and response.json["code"] == "phone_invalid"
    assert harness.outbox.messages == []
