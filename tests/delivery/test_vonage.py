"""Vonage SMS API against a local double that holds its documented wire format, and signed
delivery receipts."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import httpx
import pytest

from otpgate import Settings, Status, Verifier
from otpgate.gateways import (
    AsyncVonageSender,
    GatewayError,
    InvalidCallback,
    VonageGateway,
    VonageSender,
    vonage_receipt,
)
from otpgate.gateways.base import callback_token
from tests.conftest import KEY
from tests.delivery.servers import Answer, FakeServer

API_KEY = "abcd1234"
API_SECRET = "vonage-secret-0123"
CALLBACK_SECRET = "vonage-callback-secret-0123456789"
PHONE = "+33612345678"
TEXT = "Acme: your verification code is 493817. It expires in 5 min. Never share it."
STATUSES = {"15005550001": "3", "15005550002": "1", "15005550004": "4", "15005550009": "9"}


def vonage(request):
    """Answers like rest.nexmo.com/sms/json after checking its documented parameters."""
    if request.method != "POST" or request.path != "/sms/json":
        return Answer(404)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form
    assert {"api_key", "api_secret", "from", "to", "text"} <= set(form)
    assert set(form) <= {
        *("api_key", "api_secret", "from", "to", "text", "type", "callback", "client-ref")
    }
    if form["to"] == "15005550500":
        return Answer(500, b"<html>Internal Server Error</html>")
    if (form["api_key"], form["api_secret"]) != (API_KEY, API_SECRET):
        status = "4"
    else:
        status = STATUSES.get(form["to"], "0")
    if status != "0":
        body = {"message-count": "1", "messages": [{"status": status, "error-text": form["to"]}]}
    else:
        parts = 2 if len(form["text"]) > (70 if form.get("type") == "unicode" else 160) else 1
        body = {
            "message-count": str(parts),
            "messages": [
                {
                    "to": form["to"],
                    "message-id": f"0A000000{index}23ABCD1",
                    "status": "0",
                    "remaining-balance": "3.14159265",
                    "message-price": "0.03330000",
                    "network": "20801",
                    "client-ref": form.get("client-ref", ""),
                }
                for index in range(parts)
            ],
        }
    return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def api():
    with FakeServer(vonage) as server:
        yield server


def gateway(api, receiver=None, secret=API_SECRET):
    return VonageGateway(
        API_KEY,
        secret,
        "Acme",
        callback_url=f"{receiver.url}/otpgate/vonage" if receiver else None,
        callback_secret=CALLBACK_SECRET if receiver else None,
        base_url=api.url,
    )


def test_a_gsm_text_goes_out_as_text(api, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    with VonageSender(gateway(api, receiver)) as sender:
        assert sender.send(PHONE, TEXT, reference="abc.def") == "0A000000023ABCD1"
    form = api.requests[0].form
    token = callback_token(CALLBACK_SECRET, "vonage", "abc.def")
    assert form == {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "from": "Acme",
        "to": "33612345678",  # E.164 without the +
        "text": TEXT,
        "client-ref": "abc.def",
        "callback": f"{receiver.url}/otpgate/vonage?ref=abc.def&token={token}",
    }
    assert "493817" not in caplog.text and PHONE[1:] not in caplog.text


def test_a_chinese_text_goes_out_as_unicode_and_may_take_two_parts(api):
    text = "【Acme】您的验证码是493817，5分钟内有效。请勿告诉他人。" * 2
    with VonageSender(gateway(api)) as sender:
        assert sender.send("+8613812345678", text) == "0A000000023ABCD1"
    assert api.requests[0].form["type"] == "unicode"


@pytest.mark.parametrize(
    ("to", "detail", "retryable"),
    [
        ("+15005550001", "status 3", False),  # invalid parameters: the number
        ("+15005550002", "status 1", True),  # throttled
        ("+15005550009", "status 9", True),  # out of credit: another gateway may deliver
        ("+15005550500", "HTTP 500", True),
    ],
)
def test_errors_are_typed(api, to, detail, retryable):
    with VonageSender(gateway(api)) as sender, pytest.raises(GatewayError) as caught:
        sender.send(to, TEXT)
    assert (caught.value.detail, caught.value.retryable) == (detail, retryable)
    assert to[1:] not in repr(caught.value) + caught.value.message


def test_wrong_credentials_are_retryable_elsewhere(api):
    with (
        VonageSender(gateway(api, secret="wrong")) as sender,
        pytest.raises(GatewayError) as caught,
    ):
        sender.send(PHONE, TEXT)
    assert (caught.value.detail, caught.value.retryable) == ("status 4", True)


async def test_the_async_sender_speaks_the_same_wire_format(api):
    async with AsyncVonageSender(gateway(api)) as sender:
        assert await sender.send(PHONE, TEXT) == "0A000000023ABCD1"
    assert api.requests[0].form["to"] == "33612345678"


def receipt_params(reference, status, token=None):
    return {
        "ref": reference,
        "token": token or callback_token(CALLBACK_SECRET, "vonage", reference),
        "msisdn": "33612345678",
        "to": "Acme",
        "network-code": "20801",
        "messageId": "0A000000023ABCD1",
        "price": "0.03330000",
        "status": status,
        "scts": "2001011400",
        "err-code": "0" if status == "delivered" else "1",
        "client-ref": reference,
        "message-timestamp": "2020-01-01 14:00:00",
    }


@pytest.mark.parametrize(
    ("status", "ours"),
    [
        ("delivered", "delivered"),
        ("expired", "undelivered"),
        ("failed", "failed"),
        ("rejected", "failed"),
        ("accepted", None),
        ("buffered", None),
        ("unknown", None),
    ],
)
def test_receipt_statuses(status, ours):
    receipt = vonage_receipt(receipt_params("abc.def", status), CALLBACK_SECRET)
    assert receipt == (("abc.def", ours) if ours else None)


def test_receipts_with_a_wrong_or_missing_token_are_refused():
    forged = receipt_params("abc.def", "failed", token=callback_token("x" * 20, "vonage", "abc"))
    for params in (forged, {**receipt_params("abc.def", "failed"), "ref": "abc.deg"}, {}):
        with pytest.raises(InvalidCallback):
            vonage_receipt(params, CALLBACK_SECRET)
    kannel_token = callback_token(CALLBACK_SECRET, "kannel", "abc.def")
    with pytest.raises(InvalidCallback):  # a token is only good for its gateway
        vonage_receipt(receipt_params("abc.def", "failed", kannel_token), CALLBACK_SECRET)


def test_a_receipt_over_http_marks_the_challenge_failed(api, receiver):
    vonage_gateway = gateway(api, receiver)
    with VonageSender(vonage_gateway) as sender:
        gate = Verifier(Settings(secret_keys=(KEY,), brand="Acme"), sender=sender)
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    assert api.requests[0].form["client-ref"] == f"{challenge.id}~1"

    def view(request):  # Vonage sends receipts as GET by default
        try:
            receipt = vonage_gateway.receipt(request.params)
        except InvalidCallback:
            return Answer(403)
        if receipt:
            gate.delivery_report(*receipt)
        return Answer(204)

    receiver.handler = view
    callback = api.requests[0].form["callback"]
    dlr = {
        k: v for k, v in receipt_params(challenge.id, "failed").items() if k not in ("ref", "token")
    }
    assert httpx.get(callback + "&" + urlencode(dlr)).status_code == 204
    assert gate.get(challenge.id).status is Status.FAILED
    assert (
        httpx.get(f"{receiver.url}/otpgate/vonage?ref={challenge.id}&status=delivered").status_code
        == 403
    )
