"""The SIM-swap signal against a local server that holds CAMARA's SIM Swap wire format
(``POST …/check``, its error bodies) and an OAuth2 client-credentials token endpoint; then
the verifiers refusing an SMS to a freshly swapped number while other factors still serve."""

from __future__ import annotations

import json
import logging
import time

import pyotp
import pytest

from otpgate import (
    AsyncVerifier,
    EventName,
    OutboxSender,
    Settings,
    SmsTemporarilyUnavailable,
    Verifier,
    error_response,
)
from otpgate.gateways import AsyncSimSwapClient, CamaraSimSwap, SimSwapClient
from tests.camara import CLIENT_SECRET, ERRORS, KEPT, SLOW, SWAPPED, api
from tests.conftest import KEY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def checks(camara) -> list:
    return [r for r in camara.server.requests if r.path.endswith("/check")]


def test_swapped_and_kept_numbers_and_the_wire_format(camara):
    client = SimSwapClient(api(camara.server))
    assert client.check(SWAPPED, 24).verdict == "swapped"
    assert client.check(KEPT, 24).verdict == "not_swapped"
    sent = [json.loads(r.body) for r in checks(camara)]
    assert sent == [{"phoneNumber": SWAPPED, "maxAge": 24}, {"phoneNumber": KEPT, "maxAge": 24}]
    assert camara.tokens_issued == 1  # one token for both calls


@pytest.mark.parametrize("number", sorted(ERRORS))
def test_each_error_body_is_an_unknown_answer_with_its_code(camara, number):
    status, code = ERRORS[number]
    answer = SimSwapClient(api(camara.server)).check(number, 24)
    assert answer.verdict == "unknown"
    assert answer.reason == f"http_{status} {code}"
    assert number not in answer.reason


def test_an_expired_token_is_replaced_and_a_revoked_one_retried_once(camara):
    clock = Clock()
    camara.expires_in = 60
    client = SimSwapClient(api(camara.server), clock=clock, cache_seconds=0)
    client.check(KEPT, 24)
    clock.now += 31  # past the stated lifetime minus the 30 s margin
    client.check(KEPT, 24)
    assert camara.tokens_issued == 2
    camara.revoked.add("token-2")
    assert client.check(KEPT, 24).verdict == "not_swapped"
    assert camara.tokens_issued == 3
    camara.revoked.add("token-3")
    camara.revoked.add("token-4")  # the next token is refused too: no third attempt
    assert client.check(KEPT, 24).reason == "http_401 UNAUTHENTICATED"
    assert camara.tokens_issued == 4


def test_token_endpoint_failure_timeout_and_refused_connection_are_unknown(camara):
    camara.token_status = 503
    assert SimSwapClient(api(camara.server)).check(KEPT, 24).reason == "token_http_503"
    camara.token_status = 200
    answer = SimSwapClient(api(camara.server), timeout=0.2).check(SLOW, 24)
    assert (answer.verdict, answer.reason) == ("unknown", "timeout")
    closed = CamaraSimSwap("http://127.0.0.1:9/v2", "http://127.0.0.1:9/t", "id", "secret")
    assert SimSwapClient(closed).check(KEPT, 24).reason == "token_connect"


def test_answers_are_cached_briefly_per_number_and_window(camara):
    clock = Clock()
    client = SimSwapClient(api(camara.server), clock=clock, cache_seconds=300)
    for _ in range(3):
        assert client.check(SWAPPED, 24).swapped
    assert len(checks(camara)) == 1
    client.check(SWAPPED, 48)  # another window is another question
    assert len(checks(camara)) == 2
    clock.now += 301
    client.check(SWAPPED, 24)
    assert len(checks(camara)) == 3
    client.check("+33633333333", 24)  # an outage answer is kept 30 s at most
    client.check("+33633333333", 24)
    assert len(checks(camara)) == 4
    clock.now += 31
    client.check("+33633333333", 24)
    assert len(checks(camara)) == 5


def test_logs_hold_neither_the_number_nor_the_token(camara, caplog):
    caplog.set_level(logging.DEBUG)
    client = SimSwapClient(api(camara.server))
    client.check("+33633333333", 24)
    client.check(SWAPPED, 24)
    text = caplog.text + repr(client) + repr(client.api)
    assert "+336" not in text and "33633333333" not in text
    assert "token-1" not in text and CLIENT_SECRET not in text
    assert "http_503" in caplog.text


# -- the verifiers --------------------------------------------------------------------------


def _gate(camara, on_error="allow", **extra):
    settings = Settings(
        secret_keys=(KEY,), brand="Acme", sim_swap_max_age=72, sim_swap_on_error=on_error
    )
    outbox = OutboxSender()
    gate = Verifier(settings, sender=outbox, sim_swap=SimSwapClient(api(camara.server)), **extra)
    events = []
    gate.events.subscribe(events.append)
    return gate, outbox, events


def _enrolled(gate, outbox, subject, number):
    challenge = gate.start_sms(subject, number, purpose="enroll")  # a new number: not asked
    gate.check(challenge.id, outbox.last_code_for(number), subject=subject)


def test_no_code_goes_to_a_swapped_number_and_the_refusal_explains_itself(camara):
    gate, outbox, events = _gate(camara)
    _enrolled(gate, outbox, "alice", SWAPPED)
    assert checks(camara) == []  # verifying a new number does not ask
    sent_before = len(outbox.messages)
    for purpose in ("login", "action", "transaction"):
        with pytest.raises(SmsTemporarilyUnavailable) as refused:
            gate.start_sms("alice", purpose=purpose)
        assert refused.value.reason == "sim_swap"
    assert len(outbox.messages) == sent_before
    response = error_response(refused.value)
    assert response.status == 409
    assert response.body["code"] == "sms_temporarily_unavailable"
    assert "+336" not in json.dumps(response.body)
    detected = [e for e in events if e.name is EventName.SIM_SWAP_DETECTED]
    assert len(detected) == 3 and detected[0].masked_phone.endswith("78")
    assert SWAPPED not in repr(detected)


def test_a_kept_number_gets_its_code(camara):
    gate, outbox, events = _gate(camara)
    _enrolled(gate, outbox, "bob", KEPT)
    challenge = gate.start_sms("bob")
    assert gate.check(challenge.id, outbox.last_code_for(KEPT), subject="bob").factor == "sms"
    assert not [e for e in events if e.name.value.startswith("sim_swap")]
    assert json.loads(checks(camara)[0].body) == {"phoneNumber": KEPT, "maxAge": 72}


@pytest.mark.parametrize(("on_error", "refused"), [("allow", False), ("refuse", True)])
def test_an_unanswered_check_follows_the_setting(camara, on_error, refused):
    gate, outbox, events = _gate(camara, on_error)
    _enrolled(gate, outbox, "carol", "+33633333333")
    if refused:
        with pytest.raises(SmsTemporarilyUnavailable) as error:
            gate.start_sms("carol")
        assert error.value.reason == "sim_swap_unknown"
    else:
        gate.start_sms("carol")
    unknown = [e for e in events if e.name is EventName.SIM_SWAP_UNKNOWN]
    assert [e.detail["reason"] for e in unknown] == ["http_503 UNAVAILABLE"]


def test_another_factor_still_serves_after_a_refusal(camara):
    gate, outbox, _ = _gate(camara)
    _enrolled(gate, outbox, "dave", SWAPPED)
    enrollment = gate.totp.enroll("dave")
    gate.totp.confirm("dave", pyotp.TOTP(enrollment.secret).now())
    with pytest.raises(SmsTemporarilyUnavailable):
        gate.start("dave", "sms", purpose="action")
    assert "totp" in [option.name for option in gate.offer("dave", "action")]
    code = pyotp.TOTP(enrollment.secret).at(time.time() + 30)  # the next step: not yet used
    verification = gate.verify("dave", "totp", code, purpose="action")
    assert (verification.factor, verification.purpose) == ("totp", "action")


def test_settings_are_validated():
    with pytest.raises(Exception, match="sim_swap_max_age"):
        Settings(secret_keys=(KEY,), sim_swap_max_age=2401)
    with pytest.raises(Exception, match="sim_swap_on_error"):
        Settings(secret_keys=(KEY,), sim_swap_on_error="maybe")
    assert (
        Settings.from_mapping(
            {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_SIM_SWAP_ON_ERROR": "Refuse"}
        ).sim_swap_on_error
        == "refuse"
    )


async def test_the_async_verifier_asks_with_the_async_client(camara):
    settings = Settings(secret_keys=(KEY,), brand="Acme", sim_swap_max_age=24)
    outbox = OutboxSender()
    client = AsyncSimSwapClient(api(camara.server))
    gate = AsyncVerifier(settings, sender=outbox, sim_swap=client)
    challenge = await gate.start_sms("erin", SWAPPED, purpose="enroll")
    await gate.check(challenge.id, outbox.last_code_for(SWAPPED), subject="erin")
    with pytest.raises(SmsTemporarilyUnavailable):
        await gate.start_sms("erin")
    assert (await client.check(KEPT, 24)).verdict == "not_swapped"
    await client.aclose()
