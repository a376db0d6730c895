"""Twilio against a local double that holds its documented wire format, and status callbacks
signed by the official ``twilio`` library's RequestValidator."""

from __future__ import annotations

import base64
import inspect
import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from otpgate import Settings, Status, Verifier
from otpgate.gateways import (
    AsyncTwilioSender,
    GatewayError,
    InvalidCallback,
    TwilioGateway,
    TwilioSender,
    twilio_receipt,
    twilio_signature,
    validate_twilio_signature,
)
from tests.conftest import KEY
from tests.delivery.servers import Answer, FakeServer

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-0123456789abcd"
PHONE = "+33612345678"
TEXT = "Acme: your verification code is 493817. It expires in 5 min. Never share it."
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"

ERRORS = {  # To → (HTTP status, Twilio error code)
    "+15005550001": (400, 21211),  # invalid To
    "+15005550009": (400, 21614),  # not a mobile number
    "+15005550010": (400, 21408),  # no permission for this region: an account problem
    "+15005550011": (429, 20429),
    "+15005550012": (500, None),
}


def twilio(request):
    """Answers like api.twilio.com, after checking what its documentation requires."""
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    if request.method != "POST" or request.path != PATH:
        return Answer(404, b'{"code": 20404, "status": 404}')
    if request.headers.get("authorization") != expected_auth:
        return Answer(401, b'{"code": 20003, "message": "Authenticate", "status": 401}')
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form
    assert set(form) <= {"To", "Body", "From", "MessagingServiceSid", "StatusCallback"}
    assert ("From" in form) != ("MessagingServiceSid" in form)
    to = form["To"]
    if to == "+15005550099":
        time.sleep(1.5)
    if to in ERRORS:
        status, code = ERRORS[to]
        body = {
            "code": code,
            "message": f"The 'To' number {to} is not a valid phone number.",
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return Answer(status, json.dumps(body).encode(), {"Content-Type": "application/json"})
    body = {
        "sid": "SM" + "f" * 32,
        "account_sid": SID,
        "to": to,
        "from": form.get("From"),
        "body": form["Body"],
        "status": "queued",
        "num_segments": "1",
    }
    return Answer(201, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def api():
    with FakeServer(twilio) as server:
        yield server


def gateway(api, **options):
    options.setdefault("sender", "+15017122661")
    return TwilioGateway(SID, TOKEN, base_url=api.url, **options)


def test_a_message_is_created_with_the_documented_request(api, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    callback = f"{receiver.url}/otpgate/twilio"
    with TwilioSender(gateway(api, status_callback=callback)) as sender:
        assert sender.send(PHONE, TEXT, reference="abc.def") == "SM" + "f" * 32
    [request] = api.requests
    assert request.form == {
        "To": PHONE,
        "Body": TEXT,
        "From": "+15017122661",
        "StatusCallback": callback + "?ref=abc.def",
    }
    assert "493817" not in caplog.text and PHONE[1:] not in caplog.text
    assert "+33 ••• ••• 5678" in caplog.text


def test_a_messaging_service_replaces_the_sender(api):
    with TwilioSender(gateway(api, sender=None, messaging_service_sid="MG" + "1" * 32)) as sender:
        sender.send(PHONE, TEXT)
    assert api.requests[0].form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in api.requests[0].form


@pytest.mark.parametrize(
    ("to", "detail", "retryable"),
    [
        ("+15005550001", "HTTP 400, error 21211", False),
        ("+15005550009", "HTTP 400, error 21614", False),
        ("+15005550010", "HTTP 400, error 21408", True),
        ("+15005550011", "HTTP 429, error 20429", True),
        ("+15005550012", "HTTP 500", True),
    ],
)
def test_errors_are_typed_and_never_quote_the_number(api, to, detail, retryable, caplog):
    with TwilioSender(gateway(api)) as sender, pytest.raises(GatewayError) as caught:
        sender.send(to, TEXT)
    error = caught.value
    assert (error.gateway, error.detail, error.retryable) == ("twilio", detail, retryable)
    shown = f"{error} {error!r} {error.message} {caplog.text}"
    assert to[1:] not in shown and "493817" not in shown


def test_wrong_credentials_are_retryable_elsewhere(api):
    broken = TwilioGateway(SID, "wrong-token", sender="+15017122661", base_url=api.url)
    with TwilioSender(broken) as sender, pytest.raises(GatewayError) as caught:
        sender.send(PHONE, TEXT)
    assert (caught.value.detail, caught.value.retryable) == ("HTTP 401, error 20003", True)


def test_a_slow_answer_times_out(api):
    started = time.monotonic()
    with TwilioSender(gateway(api), timeout=0.3) as sender, pytest.raises(GatewayError) as caught:
        sender.send("+15005550099", TEXT)
    assert time.monotonic() - started < 1.2
    assert caught.value.retryable and caught.value.detail.startswith("timeout")


def test_a_refused_connection_is_retryable():
    dead = TwilioGateway(SID, TOKEN, sender="+15017122661", base_url="http://127.0.0.1:9")
    with TwilioSender(dead) as sender, pytest.raises(GatewayError) as caught:
        sender.send(PHONE, TEXT)
    assert caught.value.retryable and caught.value.detail == "connection failed (ConnectError)"


async def test_the_async_sender_speaks_the_same_wire_format(api):
    async with AsyncTwilioSender(gateway(api)) as sender:
        assert await sender.send(PHONE, TEXT) == "SM" + "f" * 32
        with pytest.raises(GatewayError) as caught:
            await sender.send("+15005550001", TEXT)
    assert caught.value.detail == "HTTP 400, error 21211"
    assert api.requests[0].form["Body"] == TEXT


def test_a_shared_client_stays_open(api):
    with httpx.Client() as client:
        TwilioSender(gateway(api), client=client).close()
        assert not client.is_closed


# -- status callbacks ------------------------------------------------------------------------


def callback_params(status, to=PHONE):
    return {
        "AccountSid": SID,
        "ApiVersion": "2010-04-01",
        "From": "+15017122661",
        "MessageSid": "SM" + "f" * 32,
        "MessageStatus": status,
        "SmsSid": "SM" + "f" * 32,
        "SmsStatus": status,
        "To": to,
    }


URLS = [
    "https://example.com/otpgate/twilio?ref=abc.def",
    "https://example.com:8443/otpgate/twilio?ref=abc.def&x=1",
    "http://127.0.0.1:8000/cb",
]


@pytest.mark.parametrize("url", URLS)
def test_signatures_made_by_the_official_library_validate(url):
    params = callback_params("delivered")
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert twilio_signature(url, params, TOKEN) == signature
    assert validate_twilio_signature(url, params, signature, TOKEN)


def test_the_port_may_differ_as_in_twilios_validator():
    params = callback_params("sent")
    with_port = RequestValidator(TOKEN).compute_signature("https://example.com:443/cb", params)
    assert validate_twilio_signature("https://example.com/cb", params, with_port, TOKEN)
    assert RequestValidator(TOKEN).validate("https://example.com/cb", params, with_port)


class MultiDict(dict):
    """What Django's QueryDict offers the official validator: getlist()."""

    def getlist(self, name):
        return self[name]


def test_repeated_and_unicode_values_sign_alike():
    lists = {"Body": ["Grüße 验证码 😀"], "Tag": ["b", "a", "b"], "To": [PHONE]}
    url = "https://example.com/cb?ref=x"
    official = RequestValidator(TOKEN).compute_signature(url, MultiDict(lists))
    assert twilio_signature(url, lists, TOKEN) == official


def test_sha256_signatures_when_the_library_has_them():
    if "algorithm" not in inspect.signature(RequestValidator.compute_signature).parameters:
        assert twilio_signature("https://e.x/", {}, TOKEN, algorithm="HMAC_SHA256")
        return
    url, params = URLS[0], callback_params("failed")
    official = RequestValidator(TOKEN).compute_signature(url, params, algorithm="HMAC_SHA256")
    assert validate_twilio_signature(url, params, official, TOKEN, algorithm="HMAC_SHA256")
    assert not validate_twilio_signature(url, params, official, TOKEN)


def tampered(url, params):
    yield url.replace("abc.def", "abc.deg"), params  # another challenge
    yield url + "&extra=1", params
    yield url, {**params, "MessageStatus": "undelivered"}
    yield url, {**params, "To": "+33612345679"}
    yield url, {k: v for k, v in params.items() if k != "SmsSid"}


def test_tampered_callbacks_are_refused():
    url, params = URLS[0], callback_params("delivered")
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert twilio_receipt(url, params, signature, TOKEN) == ("abc.def", "delivered")
    for bad_url, bad_params in tampered(url, params):
        assert not validate_twilio_signature(bad_url, bad_params, signature, TOKEN)
        with pytest.raises(InvalidCallback):
            twilio_receipt(bad_url, bad_params, signature, TOKEN)
    other = RequestValidator("another-account-token-000000000").compute_signature(url, params)
    for forged in (other, "", signature[:-2] + "AA", signature.lower()):
        with pytest.raises(InvalidCallback):
            twilio_receipt(url, params, forged, TOKEN)


@pytest.mark.parametrize(
    ("status", "ours"),
    [
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("queued", None),
        ("sending", None),
        ("sent", None),
        ("accepted", None),
    ],
)
def test_message_statuses_map_to_receipts(status, ours):
    url, params = URLS[0], callback_params(status)
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    receipt = twilio_receipt(url, params, signature, TOKEN)
    assert receipt == (("abc.def", ours) if ours else None)


def test_a_signed_callback_over_http_marks_the_challenge_failed(api, receiver):
    """The whole loop: the send names a callback URL, Twilio (here: the test) posts a signed
    status to it, the application's view verifies it and reports to the verifier."""
    twilio_gateway = gateway(api, status_callback=f"{receiver.url}/otpgate/twilio")
    with TwilioSender(twilio_gateway) as sender:
        gate = Verifier(Settings(secret_keys=(KEY,), brand="Acme"), sender=sender)
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    callback_url = api.requests[0].form["StatusCallback"]
    assert callback_url == f"{receiver.url}/otpgate/twilio?ref={challenge.id}~1"

    def view(request):
        try:
            receipt = twilio_gateway.receipt(
                request.url, request.form, request.headers.get("x-twilio-signature", "")
            )
        except InvalidCallback:
            return Answer(403)
        if receipt:
            gate.delivery_report(*receipt)
        return Answer(204)

    receiver.handler = view
    params = callback_params("undelivered")
    body = urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = httpx.post(callback_url, content=body, headers={**headers, "X-Twilio-Signature": "x"})
    assert forged.status_code == 403
    assert gate.get(challenge.id).status is Status.PENDING
    signature = RequestValidator(TOKEN).compute_signature(callback_url, params)
    answer = httpx.post(
        callback_url, content=body, headers={**headers, "X-Twilio-Signature": signature}
    )
    assert answer.status_code == 204
    assert gate.get(challenge.id).status is Status.FAILED
