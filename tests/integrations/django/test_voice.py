"""Django: "Call me instead" on the SMS step (issue 13). The page renders the alternative
the core offers; the code is read back from the recorded call; budgets hold across SMS and
voice together."""

from __future__ import annotations

import pytest

from otpgate import MemoryStore, OutboxSender, OutboxVoiceSender, PhoneSender

from .conftest import PHONE, full_login, last_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(otpgate_runtime, outbox, clock) -> OutboxVoiceSender:
    """The runtime's sender can call too: the ``voice`` factor is offered."""
    calls = OutboxVoiceSender()
    otpgate_runtime.configure(
        clock=clock, sender=PhoneSender(outbox, calls), store=MemoryStore(clock=clock)
    )
    return calls


def spoken_code(calls: OutboxVoiceSender) -> str:
    code = calls.last_code_for(PHONE)
    assert code is not None, "no call was placed"
    return code


def test_a_step_up_completed_by_a_phone_call(client, calls, sms_user, outbox, clock):
    full_login(client, outbox)
    clock.advance(400)  # the step-up is stale
    page = client.get("/2fa/verify/?next=/secret/").content.decode()
    assert "Call me instead" not in page  # offered once an SMS was asked for
    assert "Get a code by phone call" not in page  # never a factor of its own in the list
    page = client.post("/2fa/verify/?next=/secret/", {"action": "send", "method": "sms"})
    html = page.content.decode()
    assert 'id="otpgate-alternative-voice"' in html and "Call me instead" in html
    sms_code = last_code(outbox)
    page = client.post("/2fa/verify/?next=/secret/", {"action": "send", "method": "voice"})
    html = page.content.decode()
    assert "We are calling" in html and "+33 ••• ••• 5678" in html
    assert "Call again" in html and len(calls.calls) == 1
    code = spoken_code(calls)
    stale = {"action": "verify", "method": "voice", "code": sms_code}
    if sms_code != code:  # the SMS code was for the challenge the call replaced
        refused = client.post("/2fa/verify/", stale)
        assert (
            refused.status_code == 400 and "That code is not correct." in refused.content.decode()
        )
    data = {"action": "verify", "method": "voice", "code": code, "next": "/secret/"}
    response = client.post("/2fa/verify/", data)
    assert response.status_code == 302 and response["Location"] == "/secret/"
    assert client.get("/secret/").content == b"PROTECTED step-up"


def test_the_call_speaks_the_pages_language(client, calls, sms_user, outbox, clock):
    full_login(client, outbox)
    clock.advance(400)
    client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    page = client.post(
        "/2fa/verify/", {"action": "send", "method": "voice"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "验证码" in calls.calls[-1].text and calls.calls[-1].language == "zh-CN"
    assert "我们正在给" in page.content.decode()


def test_without_a_voice_sender_no_call_is_offered(client, sms_user, outbox, clock):
    full_login(client, outbox)
    clock.advance(400)
    html = client.post("/2fa/verify/", {"action": "send", "method": "sms"}).content.decode()
    assert "Call me instead" not in html
    html = client.post("/2fa/verify/", {"action": "send", "method": "voice"}).content.decode()
    assert "We are calling" not in html  # not offered: the page stays on SMS


def test_budgets_hold_across_sms_and_calls(client, calls, sms_user, outbox, clock, settings):
    full_login(client, outbox)  # one SMS
    clock.advance(400)
    for method in ("sms", "voice", "voice", "voice"):  # voice_budget: 3 calls a day
        client.post("/2fa/verify/", {"action": "send", "method": method})
    assert len(calls.calls) == 3
    html = client.post("/2fa/verify/", {"action": "send", "method": "voice"}).content.decode()
    assert "Too many codes were requested" in html and len(calls.calls) == 3


def test_a_failed_text_offers_the_call_too(client, calls, sms_user, outbox, clock):
    from otpgate import DeliveryFailed

    full_login(client, outbox)
    clock.advance(400)
    outbox.failing = DeliveryFailed()
    html = client.post("/2fa/verify/", {"action": "send", "method": "sms"}).content.decode()
    assert 'id="otpgate-alternative-voice"' in html  # the text failed: call instead
    outbox.failing = None
    html = client.post("/2fa/verify/", {"action": "send", "method": "voice"}).content.decode()
    assert "We are calling" in html and len(calls.calls) == 1


class BlockingCalls(OutboxVoiceSender):
    """A voice sender that may block (a gateway's): async views run it in a thread."""

    nonblocking = False


class AsyncCalls(OutboxVoiceSender):
    """An async-only voice sender: sync views run it through async_to_sync."""

    async def call(self, to, speech, *, reference=""):  # type: ignore[override]
        return OutboxVoiceSender.call(self, to, speech, reference=reference)


@pytest.mark.django_db(transaction=True)
async def test_async_views_call_through_a_blocking_voice_sender(
    otpgate_runtime, sms_user, outbox, clock
):
    calls = BlockingCalls()
    otpgate_runtime.configure(
        clock=clock, sender=PhoneSender(outbox, calls), store=MemoryStore(clock=clock)
    )
    gate, subject = otpgate_runtime.get_async_verifier(), str(sms_user.pk)
    challenge = await gate.start(subject, "voice", purpose="action")
    code = calls.last_code_for(PHONE)
    verification = await gate.verify(
        subject, "voice", code, purpose="action", challenge_id=challenge.id
    )
    assert verification.factor == "voice"


def test_sync_views_call_through_an_async_voice_sender(otpgate_runtime, sms_user, clock):
    from otpgate import AsyncPhoneSender

    class AsyncTexts(OutboxSender):
        async def send(self, to, text, *, reference=""):  # type: ignore[override]
            return OutboxSender.send(self, to, text, reference=reference)

    calls = AsyncCalls()
    otpgate_runtime.configure(
        clock=clock, sender=AsyncPhoneSender(AsyncTexts(), calls), store=MemoryStore(clock=clock)
    )
    gate, subject = otpgate_runtime.get_verifier(), str(sms_user.pk)
    challenge = gate.start(subject, "voice", purpose="login")
    code = calls.last_code_for(PHONE)
    verification = gate.verify(subject, "voice", code, purpose="login", challenge_id=challenge.id)
    assert verification.factor == "voice"
