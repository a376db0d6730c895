"""A transaction is confirmed only by a state-changing request: a view that calls
``confirm_transaction`` for any method (as the old quick start did) answers GET, HEAD, OPTIONS
and TRACE (a link preview, a crawler, a prefetch) with 405 and an ``Allow`` header, and sends
nothing, records nothing and leaves the session as it was — pages, JSON and DRF alike."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from otpgate.core.confirmations import Confirmations
from otpgate.integrations.django import runtime

from .conftest import full_login, last_code

pytestmark = pytest.mark.django_db

SAFE = ["GET", "HEAD", "OPTIONS", "TRACE"]
ALLOW = "POST, PUT, PATCH, DELETE"


def _state(user, action: str, details: dict[str, str]) -> str:
    return Confirmations(runtime.get_verifier()).state(str(user.pk), action, details).state


@pytest.mark.parametrize("url", ["/standing-order/", "/flaky-transfer/"])
@pytest.mark.parametrize("method", SAFE)
def test_a_safe_request_sends_no_code_and_records_nothing(client, sms_user, outbox, url, method):
    full_login(client, outbox)
    outbox.clear()
    before = dict(client.session.items())
    answer = client.generic(method, url, HTTP_ACCEPT="text/html")
    assert answer.status_code == 405
    assert answer["Allow"] == ALLOW
    assert outbox.messages == []
    assert dict(client.session.items()) == before
    action = url.strip("/").replace("-", "_")
    assert _state(sms_user, action, {"amount": "", "payee": ""}) == "unknown"
    if method == "GET":
        assert b"PROTECTED" not in answer.content
        assert "This request method is not allowed here." in answer.content.decode()


def test_an_api_client_gets_problem_json(client, sms_user, outbox):
    full_login(client, outbox)
    outbox.clear()
    answer = client.get("/standing-order/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 405
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["Allow"] == ALLOW
    assert answer.json()["code"] == "method_not_allowed"
    assert outbox.messages == []


def test_a_post_still_sends_the_code(client, sms_user, outbox):
    full_login(client, outbox)
    outbox.clear()
    page = client.post("/standing-order/", {"amount": "5.00", "payee": "Bob"})
    assert page.status_code == 200 and len(outbox.messages) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", SAFE)
async def test_the_async_view_refuses_safe_methods_too(async_client, sms_user, outbox, method):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    await async_client.post("/2fa/verify/", {"action": "send"})
    await async_client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    outbox.clear()
    answer = await async_client.generic(method, "/standing-order-async/")
    assert answer.status_code == 405 and answer["Allow"] == ALLOW
    assert outbox.messages == []


@pytest.mark.urls("tests.integrations.django.urls_compat")
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_drf_action_decorated_on_get_answers_405(sms_user, outbox, method):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(sms_user)
    answer = client.generic(method, "/api/lookup-order/?order=7")
    assert answer.status_code == 405
    assert "POST" in answer["Allow"]  # DRF's own Allow: the view's methods
    assert outbox.messages == []
    if method == "GET":  # (DRF itself refuses HEAD on a function view without "HEAD")
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "method_not_allowed"
