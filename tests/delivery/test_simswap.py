"""The SIM-swap signal against a local server that holds CAMARA's SIM Swap wire format
(``POST …/check``, its error bodies) and an OAuth2 client-credentials token endpoint; then
the verifiers refusing an SMS to a freshly swapped number while other factors still serve."""

from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import parse_qs

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
from tests.conftest import KEY
from tests.delivery.servers import Answer, FakeServer

CLIENT_ID, CLIENT_SECRET = "otpgate-app", "camara-secret-0123456789"
SWAPPED = "+33612345678"
KEPT = "+33698765432"
ERRORS = {  # number -> (status, CAMARA code)
    "+33611111111": (404, "IDENTIFIER_NOT_FOUND"),
    "+33622222222": (429, "QUOTA_EXCEEDED"),
    "+33633333333": (503, "UNAVAILABLE"),
    "+33644444444": (403, "PERMISSION_DENIED"),
    "+33655555555": (422, "SERVICE_NOT_APPLICABLE"),
}
SLOW = "+33666666666"


def _error(status: int, code: str) -> Answer:
    body = {"status": status, "code": code, "message": f"{code} for this request"}
    return Answer(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


class Operator:
    """A CAMARA SIM Swap API and its token endpoint, checking what the specification asks."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.revoked: set[str] = set()
        self.token_status = 200
        self.expires_in = 3600

    def __call__(self, request):  # the FakeServer handler
        if request.path == "/oauth/token":
            return self.token(request)
        if request.path == "/sim-swap/v2/check":
            return self.check(request)
        return _error(404, "NOT_FOUND")

    def token(self, request):
        assert request.method == "POST"
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return Answer(401, b'{"error": "invalid_client"}')
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        assert form == {"grant_type": "client_credentials", "scope": "sim-swap:check"}
        if self.token_status != 200:
            return Answer(self.token_status, b'{"error": "temporarily_unavailable"}')
        self.tokens_issued += 1
        body = {
            "access_token": f"token-{self.tokens_issued}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def check(self, request):
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert len(request.headers["x-correlator"]) <= 256
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token.startswith("token-") or token in self.revoked:
            return _error(401, "UNAUTHENTICATED")
        body = json.loads(request.body)
        number, max_age = body.get("phoneNumber"), body.get("maxAge")
        if not isinstance(max_age, int) or not 1 <= max_age <= 2400:
            return _error(400, "OUT_OF_RANGE")
        if number == SLOW:
            time.sleep(1.0)
        if number in ERRORS:
            return _error(*ERRORS[number])
        return Answer(200, json.dumps({"swapped": number == SWAPPED}).encode())


@pytest.fixture
def operator():
    state = Operator()
    with FakeServer(state) as server:
        state.server = server
        yield state


def api(server) -> CamaraSimSwap:
    return CamaraSimSwap(
        f"{server.url}/sim-swap/v2", f"{server.url}/oauth/token", CLIENT_ID, CLIENT_SECRET
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def checks(operator) -> list:
    return [r for r in operator.server.requests if r.path.endswith("/check")]


def test_swapped_and_kept_numbers_and_the_wire_format(operator):
    client = SimSwapClient(api(operator.server))
    assert client.check(SWAPPED, 24).verdict == "swapped"
    assert client.check(KEPT, 24).verdict == "not_swapped"
    sent = [json.loads(r.body) for r in checks(operator)]
    assert sent == [{"phoneNumber": SWAPPED, "maxAge": 24}, {"phoneNumber": KEPT, "maxAge": 24}]
    assert operator.tokens_issued == 1  # one token for both calls


@pytest.mark.parametrize("number", sorted(ERRORS))
def test_each_error_body_is_an_unknown_answer_with_its_code(operator, number):
    status, code = ERRORS[number]
    answer = SimSwapClient(api(operator.server)).check(number, 24)
    assert answer.verdict == "unknown"
    assert answer.reason == f"http_{status} {code}"
    assert number not in answer.reason


def test_an_expired_token_is_replaced_and_a_revoked_one_retried_once(operator):
    clock = Clock()
    operator.expires_in = 60
    client = SimSwapClient(api(operator.server), clock=clock, cache_seconds=0)
    client.check(KEPT, 24)
    clock.now += 31  # past the stated lifetime minus the 30 s margin
    client.check(KEPT, 24)
    assert operator.tokens_issued == 2
    operator.revoked.add("token-2")
    assert client.check(KEPT, 24).verdict == "not_swapped"
    assert operator.tokens_issued == 3
    operator.revoked.add("token-3")
    operator.revoked.add("token-4")  # the next token is refused too: no third attempt
    assert client.check(KEPT, 24).reason == "http_401 UNAUTHENTICATED"
    assert operator.tokens_issued == 4


def test_token_endpoint_failure_timeout_and_refused_connection_are_unknown(operator):
    operator.token_status = 503
    assert SimSwapClient(api(operator.server)).check(KEPT, 24).reason == "token_http_503"
    operator.token_status = 200
    answer = SimSwapClient(api(operator.server), timeout=0.2).check(SLOW, 24)
    assert (answer.verdict, answer.reason) == ("unknown", "timeout")
    closed = CamaraSimSwap("http://127.0.0.1:9/v2", "http://127.0.0.1:9/t", "id", "secret")
    assert SimSwapClient(closed).check(KEPT, 24).reason == "token_connect"


def test_answers_are_cached_briefly_per_number_and_window(operator):
    clock = Clock()
    client = SimSwapClient(api(operator.server), clock=clock, cache_seconds=300)
    for _ in range(3):
        assert client.check(SWAPPED, 24).swapped
    assert len(checks(operator)) == 1
    client.check(SWAPPED, 48)  # another window is another question
    assert len(checks(operator)) == 2
    clock.now += 301
    client.check(SWAPPED, 24)
    assert len(checks(operator)) == 3
    client.check("+33633333333", 24)  # an outage answer is kept 30 s at most
    client.check("+33633333333", 24)
    assert len(checks(operator)) == 4
    clock.now += 31
    client.check("+33633333333", 24)
    assert len(checks(operator)) == 5


def test_logs_hold_neither_the_number_nor_the_token(operator, caplog):
    caplog.set_level(logging.DEBUG)
    client = SimSwapClient(api(operator.server))
    client.check("+33633333333", 24)
    client.check(SWAPPED, 24)
    text = caplog.text + repr(client) + repr(client.api)
    assert "+336" not in text and "33633333333" not in text
    assert "token-1" not in text and CLIENT_SECRET not in text
    assert "http_503" in caplog.text


# -- the verifiers --------------------------------------------------------------------------


def _gate(operator, on_error="allow", **extra):
    settings = Settings(
        secret_keys=(KEY,), brand="Acme", sim_swap_max_age=72, sim_swap_on_error=on_error
    )
    outbox = OutboxSender()
    gate = Verifier(settings, sender=outbox, sim_swap=SimSwapClient(api(operator.server)), **extra)
    events = []
    gate.events.subscribe(events.append)
    return gate, outbox, events


def _enrolled(gate, outbox, subject, number):
    challenge = gate.start_sms(subject, number, purpose="enroll")  # a new number: not asked
    gate.check(challenge.id, outbox.last_code_for(number), subject=subject)


def test_no_code_goes_to_a_swapped_number_and_the_refusal_explains_itself(operator):
    gate, outbox, events = _gate(operator)
    _enrolled(gate, outbox, "alice", SWAPPED)
    assert checks(operator) == []  # verifying a new number does not ask
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


def test_a_kept_number_gets_its_code(operator):
    gate, outbox, events = _gate(operator)
    _enrolled(gate, outbox, "bob", KEPT)
    challenge = gate.start_sms("bob")
    assert gate.check(challenge.id, outbox.last_code_for(KEPT), subject="bob").factor == "sms"
    assert not [e for e in events if e.name.value.startswith("sim_swap")]
    assert json.loads(checks(operator)[0].body) == {"phoneNumber": KEPT, "maxAge": 72}


@pytest.mark.parametrize(("on_error", "refused"), [("allow", False), ("refuse", True)])
def test_an_unanswered_check_follows_the_setting(operator, on_error, refused):
    gate, outbox, events = _gate(operator, on_error)
    _enrolled(gate, outbox, "carol", "+33633333333")
    if refused:
        with pytest.raises(SmsTemporarilyUnavailable) as error:
            gate.start_sms("carol")
        assert error.value.reason == "sim_swap_unknown"
    else:
        gate.start_sms("carol")
    unknown = [e for e in events if e.name is EventName.SIM_SWAP_UNKNOWN]
    assert [e.detail["reason"] for e in unknown] == ["http_503 UNAVAILABLE"]


def test_another_factor_still_serves_after_a_refusal(operator):
    gate, outbox, _ = _gate(operator)
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


async def test_the_async_verifier_asks_with_the_async_client(operator):
    settings = Settings(secret_keys=(KEY,), brand="Acme", sim_swap_max_age=24)
    outbox = OutboxSender()
    client = AsyncSimSwapClient(api(operator.server))
    gate = AsyncVerifier(settings, sender=outbox, sim_swap=client)
    challenge = await gate.start_sms("erin", SWAPPED, purpose="enroll")
    await gate.check(challenge.id, outbox.last_code_for(SWAPPED), subject="erin")
    with pytest.raises(SmsTemporarilyUnavailable):
        await gate.start_sms("erin")
    assert (await client.check(KEPT, 24)).verdict == "not_swapped"
    await client.aclose()
