"""A failing view does not burn its transaction's confirmation; its state is readable."""

from __future__ import annotations

import pytest

from . import urls
from .conftest import full_login, last_code

DETAILS = {"amount": "250.00", "payee": "ACME"}


@pytest.fixture(autouse=True)
def flaky():
    urls.FLAKY.update(fail_next=0, executed=0)
    return urls.FLAKY


def state(client, action: str = "flaky_transfer") -> dict:
    return client.post(f"/transfer-state/?action={action}", DETAILS).json()


def test_a_failed_view_is_retried_with_the_same_code_then_replays_answer_executed(
    client, sms_user, outbox, flaky
):
    full_login(client, outbox)
    assert state(client)["state"] == "unknown"
    client.post("/flaky-transfer/", DETAILS)
    assert state(client)["state"] == "pending"
    code = last_code(outbox)
    flaky["fail_next"] = 1
    with pytest.raises(RuntimeError):
        client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert state(client)["state"] == "failed"
    sent = len(outbox.messages)
    done = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    assert state(client) == {"state": "executed", "outcome": {"payee": "ACME", "status": 200}}
    # the form posted again: "executed already", not executed twice, no new code
    again = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert again.status_code == 409
    assert "This transaction was already completed." in again.content.decode()
    fresh = client.post("/flaky-transfer/", DETAILS)
    assert fresh.status_code == 409
    assert flaky["executed"] == 1
    assert len(outbox.messages) == sent


def test_a_retry_needs_the_code(client, sms_user, outbox, flaky, clock):
    full_login(client, outbox)
    client.post("/flaky-transfer/", DETAILS)
    code = last_code(outbox)
    flaky["fail_next"] = 1
    with pytest.raises(RuntimeError):
        client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/flaky-transfer/", {**DETAILS, "otp_code": wrong})
    assert refused.status_code == 400
    assert flaky["executed"] == 0
    clock.advance(301)
    late = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert late.status_code == 410
    assert flaky["executed"] == 0
    assert state(client)["state"] == "expired"


@pytest.mark.django_db(transaction=True)
async def test_async_views_have_the_same_semantics(async_client, sms_user, outbox, flaky):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    await async_client.post("/2fa/verify/", {"action": "send"})
    await async_client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    await async_client.post("/flaky-transfer-async/", DETAILS)
    code = last_code(outbox)
    flaky["fail_next"] = 1
    with pytest.raises(RuntimeError):
        await async_client.post("/flaky-transfer-async/", {**DETAILS, "otp_code": code})
    done = await async_client.post("/flaky-transfer-async/", {**DETAILS, "otp_code": code})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    again = await async_client.post("/flaky-transfer-async/", {**DETAILS, "otp_code": code})
    assert again.status_code == 409
    assert flaky["executed"] == 1
    status = await async_client.post("/transfer-state/?action=flaky_transfer_async", DETAILS)
    assert status.json()["state"] == "executed"


def test_in_production_the_500_answer_is_the_failure(sms_user, outbox, flaky):
    from django.test import Client

    client = Client(raise_request_exception=False)
    full_login(client, outbox)
    client.post("/flaky-transfer/", DETAILS)
    code = last_code(outbox)
    flaky["fail_next"] = 1
    assert client.post("/flaky-transfer/", {**DETAILS, "otp_code": code}).status_code == 500
    assert state(client)["state"] == "failed"
    done = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    assert flaky["executed"] == 1
