"""Django REST framework over real HTTP (pytest-django's live server): a token client passes
step-up and confirms a transfer with nothing but HTTP requests and headers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from tests.integrations.django import urls_compat
from tests.integrations.django.conftest import last_code

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.integrations.django.urls_compat"),
]


def _call(url: str, token: str, body: dict | None = None, **headers: str):
    """(status, headers, JSON body) of one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_step_up_and_a_transfer_over_http(live_server, sms_user, outbox):
    urls_compat.BANK.update(executed=[], fail_next=0)
    token = Token.objects.create(user=sms_user).key
    base = live_server.url
    status, headers, body = _call(f"{base}/api/profile/", token)
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    assert 'error="insufficient_user_authentication"' in headers["WWW-Authenticate"]
    _, _, started = _call(base + body["links"]["start"], token, {})
    checked = {"code": last_code(outbox), "challenge_id": started["challenge"]["id"]}
    status, _, verified = _call(base + body["links"]["verify"], token, checked)
    assert status == 200 and verified["verified"] is True
    assert _call(f"{base}/api/profile/", token)[2] == {"profile": "alice"}

    details = {"amount": "42.00", "to": "NL91 ABNA"}
    status, headers, opened = _call(f"{base}/api/transfer/", token, details)
    assert status == 401 and opened["code"] == "confirmation_required"
    confirm = {"OTP_Challenge": headers["OTP-Challenge"], "OTP_Code": last_code(outbox)}
    status, _, done = _call(f"{base}/api/transfer/", token, details, **confirm)
    assert status == 201 and done == {"transferred": "42.00"}
    status, _, again = _call(f"{base}/api/transfer/", token, details, **confirm)
    assert status == 409 and again["code"] == "transaction_executed"
    assert urls_compat.BANK["executed"] == [details]
