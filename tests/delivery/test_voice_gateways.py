"""Voice calls through Twilio (TwiML) and Vonage (NCCO) against local doubles that hold their
documented wire formats: the code is read back out of the recorded request (the ``<Say>`` or
``talk`` text), and status callbacks are signed as the providers sign them (Twilio by the
official library's RequestValidator, Vonage by a PyJWT HS256 token with a payload hash)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import xml.etree.ElementTree as ET

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from twilio.request_validator import RequestValidator

from otpgate import AsyncVerifier, DeliveryFailed, OutboxSender, PhoneSender, Settings, Verifier
from otpgate.core.voice import spoken_codes
from otpgate.gateways import (
    AsyncTwilioVoiceSender,
    AsyncVonageVoiceSender,
    GatewayError,
    InvalidCallback,
    TwilioVoiceGateway,
    TwilioVoiceSender,
    VonageVoiceGateway,
    VonageVoiceSender,
)
from tests.conftest import KEY
from tests.delivery.servers import Answer, FakeServer

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-0123456789abcd"
CALLER = "+14155550100"
PHONE = "+33612345678"
CALLS = f"/2010-04-01/Accounts/{SID}/Calls.json"
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
SIGNATURE_SECRET = "vonage-signature-secret-0123456789"
REFUSED = "+33612345699"  # the doubles refuse calls to it


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_keys=(KEY,), brand="Acme")


def twilio(request):
    """Answers like api.twilio.com's Calls resource, after checking what its docs require."""
    auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    if request.method != "POST" or request.path != CALLS:
        return Answer(404, b'{"code": 20404, "status": 404}')
    if request.headers.get("authorization") != auth:
        return Answer(401, b'{"code": 20003, "status": 401}')
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form
    assert set(form) <= {"To", "From", "Twiml", "StatusCallback", "StatusCallbackMethod"}
    assert form["From"] == CALLER and form["To"].startswith("+")
    ET.fromstring(form["Twiml"])  # well-formed TwiML
    if form["To"] == REFUSED:
        body = {"code": 21215, "message": "Geo permissions", "status": 400}
        return Answer(400, json.dumps(body).encode(), {"Content-Type": "application/json"})
    body = {"sid": "CA" + "e" * 32, "status": "queued", "to": form["To"], "from": CALLER}
    return Answer(201, json.dumps(body).encode(), {"Content-Type": "application/json"})


def said(twiml: str) -> tuple[str, str]:
    """(language, text) of the one ``<Say>`` of a TwiML document."""
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    [say] = list(root)
    assert say.tag == "Say"
    return say.attrib["language"], say.text or ""


@pytest.fixture
def twilio_server():
    with FakeServer(twilio) as server:
        yield server


def twilio_gateway(server, callback="https://app.example/otpgate/voice-status"):
    return TwilioVoiceGateway(
        SID, TOKEN, caller=CALLER, status_callback=callback, base_url=server.url
    )


def test_a_step_up_by_a_twilio_call(twilio_server, settings):
    voice = TwilioVoiceSender(twilio_gateway(twilio_server))
    gate = Verifier(settings, sender=PhoneSender(OutboxSender(), voice))
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "voice", purpose="action", locale="en-GB")
    [request] = twilio_server.requests
    language, text = said(request.form["Twiml"])
    assert language == "en-US" and text.startswith("This is Acme.")
    code, again = spoken_codes(text)
    assert code == again and len(code) == 6
    assert request.form["StatusCallback"].startswith(
        "https://app.example/otpgate/voice-status?ref="
    )
    verification = gate.verify("alice", "voice", code, purpose="action", challenge_id=challenge.id)
    assert verification.factor == "voice"


def test_a_twilio_call_in_chinese(twilio_server, settings):
    gateway = twilio_gateway(twilio_server)
    gate = Verifier(settings, voice_sender=TwilioVoiceSender(gateway))
    gate.credentials.add_phone("alice", PHONE)
    gate.start_voice("alice", locale="zh-Hans")
    language, text = said(twilio_server.requests[-1].form["Twiml"])
    assert language == "zh-CN" and "验证码" in text
    assert len(set(spoken_codes(text))) == 1


def test_a_refused_twilio_call_is_a_delivery_failure(twilio_server, settings):
    gate = Verifier(settings, voice_sender=TwilioVoiceSender(twilio_gateway(twilio_server)))
    gate.credentials.add_phone("alice", REFUSED)
    with pytest.raises(DeliveryFailed) as failed:
        gate.start_voice("alice")
    assert isinstance(failed.value, GatewayError) and "21215" in failed.value.detail
    assert REFUSED not in repr(failed.value)


def test_twilio_call_status_callbacks_are_verified_then_fail_the_challenge(twilio_server, settings):
    gateway = twilio_gateway(twilio_server)
    gate = Verifier(settings, voice_sender=TwilioVoiceSender(gateway))
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start_voice("alice")
    url = twilio_server.requests[-1].form["StatusCallback"]
    params = {"CallSid": "CA" + "e" * 32, "CallStatus": "no-answer", "To": PHONE}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    with pytest.raises(InvalidCallback):
        gateway.receipt(url, {**params, "CallStatus": "completed"}, signature)
    ringing = {**params, "CallStatus": "ringing"}
    assert (
        gateway.receipt(url, ringing, RequestValidator(TOKEN).compute_signature(url, ringing))
        is None
    )
    receipt = gateway.receipt(url, params, signature)
    assert receipt is not None and receipt.status == "undelivered"
    gate.delivery_report(*receipt)
    assert gate.get(challenge.id).status.value == "failed"


def test_an_async_twilio_call(twilio_server, settings):
    async def run():
        voice = AsyncTwilioVoiceSender(twilio_gateway(twilio_server))
        gate = AsyncVerifier(settings, sender=OutboxSender(), voice_sender=voice)
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "voice", purpose="login")
        code = spoken_codes(said(twilio_server.requests[-1].form["Twiml"])[1])[0]
        verification = await gate.verify(
            "alice", "voice", code, purpose="login", challenge_id=challenge.id
        )
        await voice.aclose()
        return verification

    assert asyncio.run(run()).factor == "voice"


# -- Vonage ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def vonage_server(private_key):
    public = private_key.public_key()

    def vonage(request):
        """Answers like api.nexmo.com/v1/calls: an application JWT, then a JSON call."""
        if request.method != "POST" or request.path != "/v1/calls":
            return Answer(404, b'{"title": "Not found"}')
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, public, algorithms=["RS256"])
        except jwt.PyJWTError:
            return Answer(401, b'{"title": "Unauthorized"}')
        assert scheme == "Bearer" and claims["application_id"] == APP_ID
        assert claims["jti"] and claims["exp"] > claims["iat"]
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.body)
        assert body["from"] == {"type": "phone", "number": CALLER[1:]}
        [to] = body["to"]
        assert to["type"] == "phone" and not to["number"].startswith("+")
        [talk] = body["ncco"]
        assert talk["action"] == "talk" and talk["text"] and talk["language"]
        if to["number"] == REFUSED[1:]:
            return Answer(400, b'{"title": "Bad Request", "invalid_parameters": []}')
        answer = {"uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356", "status": "started"}
        return Answer(201, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    with FakeServer(vonage) as server:
        yield server


def vonage_gateway(server, key):
    return VonageVoiceGateway(
        APP_ID,
        pem(key),
        caller=CALLER,
        event_url="https://app.example/otpgate/vonage-event",
        signature_secret=SIGNATURE_SECRET,
        base_url=server.url,
    )


def talk_of(server) -> dict:
    return json.loads(server.requests[-1].body)["ncco"][0]


def signed_event(body: bytes, secret: str = SIGNATURE_SECRET, **changes) -> str:
    claims = {
        "iat": int(time.time()),
        "jti": "0f6d1d8e-1b7e-4b6f-9f0e-5d3c2b1a0f9e",
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": "abcd1234",
        "application_id": APP_ID,
        **changes,
    }
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


def test_a_sign_in_by_a_vonage_call(vonage_server, private_key, settings):
    voice = VonageVoiceSender(vonage_gateway(vonage_server, private_key))
    gate = Verifier(settings, sender=PhoneSender(OutboxSender(), voice))
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "voice", purpose="login", locale="zh-CN")
    talk = talk_of(vonage_server)
    assert talk["language"] == "cmn-CN" and "验证码" in talk["text"]
    code, again = spoken_codes(talk["text"])
    assert code == again
    assert gate.verify("alice", "voice", code, purpose="login", challenge_id=challenge.id)


def test_vonage_call_events_are_verified_then_fail_the_challenge(
    vonage_server, private_key, settings
):
    gateway = vonage_gateway(vonage_server, private_key)
    gate = Verifier(settings, voice_sender=VonageVoiceSender(gateway))
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start_voice("alice")
    [url] = json.loads(vonage_server.requests[-1].body)["event_url"]
    body = json.dumps({"status": "busy", "uuid": "63f61863", "to": PHONE[1:]}).encode()
    for forged in (
        signed_event(body, secret="another-signature-secret-0123456789"),
        signed_event(b"{}"),  # signed for another body
        signed_event(body, iat=int(time.time()) - 3600),  # replayed an hour later
        "Bearer not-a-jwt",
        None,
    ):
        with pytest.raises(InvalidCallback):
            gateway.receipt(url, body, forged)
    answered = json.dumps({"status": "answered"}).encode()
    assert gateway.receipt(url, answered, signed_event(answered)) is None
    receipt = gateway.receipt(url, body, signed_event(body))
    assert receipt is not None and receipt.status == "undelivered"
    gate.delivery_report(*receipt)
    assert gate.get(challenge.id).status.value == "failed"


def test_a_refused_vonage_call_and_a_bad_key(vonage_server, private_key, settings):
    gate = Verifier(
        settings, voice_sender=VonageVoiceSender(vonage_gateway(vonage_server, private_key))
    )
    gate.credentials.add_phone("alice", REFUSED)
    with pytest.raises(DeliveryFailed):
        gate.start_voice("alice")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    intruder = Verifier(
        settings, voice_sender=VonageVoiceSender(vonage_gateway(vonage_server, other))
    )
    intruder.credentials.add_phone("alice", PHONE)
    with pytest.raises(GatewayError) as refused:
        intruder.start_voice("alice")
    assert refused.value.detail == "HTTP 401" and refused.value.retryable


def test_an_async_vonage_call(vonage_server, private_key, settings):
    async def run():
        voice = AsyncVonageVoiceSender(vonage_gateway(vonage_server, private_key))
        gate = AsyncVerifier(settings, sender=OutboxSender(), voice_sender=voice)
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start_voice("alice", purpose="action")
        code = spoken_codes(talk_of(vonage_server)["text"])[0]
        verification = await gate.check(challenge.id, code, factor="voice")
        await voice.aclose()
        return verification

    assert asyncio.run(run()).factor == "voice"
