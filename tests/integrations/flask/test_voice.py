"""Flask: "Call me instead" on the SMS step (issue 13), rendered from the core's offer; the
code is read back from the recorded call; budgets hold across SMS and voice together."""

from __future__ import annotations

import pytest

from otpgate import OutboxSender, OutboxVoiceSender, PhoneSender
from tests.conftest import PHONE
from tests.integrations.flask.conftest import CSRF, make_app, sms_login
from tests.integrations.flask.test_login import enroll_totp


@pytest.fixture
def calls() -> OutboxVoiceSender:
    return OutboxVoiceSender()


@pytest.fixture
def voice_harness(clock, outbox, calls):
    harness = make_app(clock, PhoneSender(outbox, calls))
    harness.outbox = outbox  # the texts; harness.last_code reads them
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def send(client, factor: str, next_url: str = "/settings", **kwargs):
    data = {"csrf_token": CSRF, "method": factor, "next": next_url}
    return client.post("/otp/verify/send", data=data, **kwargs)


def test_a_step_up_completed_by_a_phone_call(voice_harness, calls, outbox: OutboxSender):
    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    page = client.get("/otp/verify?next=/settings").text
    assert "Call me instead" not in page and "Phone call" not in page  # SMS first
    sent = send(client, "sms")
    page = client.get(sent.headers["Location"]).text
    assert 'id="otpgate-alternative-voice"' in page and "Call me instead" in page
    texts = len(outbox.messages)
    called = send(client, "voice")
    assert called.status_code == 303 and len(calls.calls) == 1
    assert len(outbox.messages) == texts  # a call, not a resent text
    page = client.get(called.headers["Location"]).text
    assert "We are calling" in page and "Call again" in page
    code = calls.last_code_for(PHONE)
    assert code is not None
    done = client.post(
        "/otp/verify",
        data={"csrf_token": CSRF, "method": "voice", "code": code, "next": "/settings"},
    )
    assert done.status_code == 303 and done.headers["Location"] == "/settings"
    assert client.get("/settings").text == "sensitive settings"


def test_calling_again_calls_with_the_same_code(voice_harness, calls):
    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    send(client, "sms")
    send(client, "voice")
    harness.clock.advance(30)
    send(client, "voice")  # "Call again": the same challenge
    assert [c.code for c in calls.calls] == [calls.calls[0].code] * 2


def test_the_call_speaks_the_pages_language(voice_harness, calls):
    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    send(client, "sms")
    send(client, "voice", headers={"Accept-Language": "zh-CN"})
    assert calls.calls[-1].language == "zh-CN" and "验证码" in calls.calls[-1].text


def test_the_json_offer_names_voice_as_the_alternative(voice_harness):
    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    answer = client.get("/otp/verify", headers={"Accept": "application/json"}).json
    factors = {f["name"]: f for f in answer["factors"]}
    assert factors["voice"]["alternative_to"] == "sms" and factors["sms"]["preferred"]


def test_budgets_hold_across_sms_and_calls(voice_harness, calls, outbox):
    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)  # one text
    harness.clock.advance(400)
    json = {"Accept": "application/json"}
    for factor in ("voice", "sms", "voice", "sms"):
        assert send(client, factor, headers=json).status_code == 201
        harness.clock.advance(31)
    refused = send(client, "voice", headers=json)  # 5 codes to this phone in 15 min
    assert refused.status_code == 429 and refused.json["code"] == "send_limit_reached"
    assert (len(outbox.messages), len(calls.calls)) == (3, 2)
    harness.clock.advance(900)
    assert send(client, "voice", headers=json).status_code == 201
    harness.clock.advance(900)
    refused = send(client, "voice", headers=json)  # voice_budget: 3 calls a day
    assert refused.status_code == 429 and len(calls.calls) == 3
    assert send(client, "sms", headers=json).status_code == 201  # texts still go


def test_without_a_voice_sender_no_call_is_offered(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    sent = send(client, "sms")
    assert "Call me instead" not in client.get(sent.headers["Location"]).text


def test_a_failed_text_offers_the_call_too(voice_harness, calls, outbox):
    from otpgate import DeliveryFailed

    harness = voice_harness
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(400)
    outbox.failing = DeliveryFailed()
    page = send(client, "sms").text
    assert 'id="otpgate-alternative-voice"' in page  # the text failed: call instead
    outbox.failing = None
    assert send(client, "voice").status_code == 303 and len(calls.calls) == 1


def test_the_preferred_factor_menu_names_factors_in_words_and_never_offers_a_call(
    voice_harness,
):
    """/otp/'s "Sign-in opens on" menu names each factor in words, as the second step does,
    and never offers the call: a step opens on the SMS, the call is its way out (the core
    refuses it as a preference)."""
    client = voice_harness.client()
    sms_login(voice_harness, client)
    answer = client.get("/otp/", headers={"Accept": "application/json"}).json
    assert "voice" in answer["available_factors"] and answer["preferable_factors"] == ["sms"]
    refused = client.post("/otp/preferred", data={"csrf_token": CSRF, "factor": "voice"})
    assert refused.status_code == 409
    enroll_totp(voice_harness, "alice")  # a second factor that may be preferred: a menu
    page = client.get("/otp/").get_data(as_text=True)
    assert '<option value="totp" selected>Authenticator app</option>' in page
    assert '<option value="sms">Text message</option>' in page
    assert 'value="voice"' not in page and ">sms<" not in page
    german = client.get("/otp/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<option value="sms">SMS</option>' in german
    assert ">Authenticator-App</option>" in german
