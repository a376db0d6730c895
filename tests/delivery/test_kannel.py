"""Kannel for real: codes go through Debian's smsbox and bearerbox to the fake SMSC, and
delivery reports come back to an HTTP server of the test, which hands them to the verifier."""

from __future__ import annotations

import logging
import time

import pytest

from otpgate import AsyncVerifier, DeliveryFailed, Status, Verifier
from otpgate.gateways import (
    AsyncKannelSender,
    FailoverSender,
    GatewayError,
    KannelGateway,
    KannelSender,
)
from tests.delivery.kannel import PASSWORD, USERNAME, stop
from tests.delivery.servers import Answer, Recording, free_port

DLR_SECRET = "kannel-dlr-secret-0123456789"
FR = "+33612345678"
CN = "+8613812345678"
DE = "+4915112345678"
ES = "+34612345678"
IT = "+393471234567"


def gateway(kannel, receiver=None, url=None, password=PASSWORD):
    return KannelGateway(
        url or kannel.sendsms_url,
        USERNAME,
        password,
        "Acme",
        dlr_url=f"{receiver.url}/otpgate/kannel" if receiver else None,
        dlr_secret=DLR_SECRET if receiver else None,
    )


@pytest.fixture
def senders():
    """Makes KannelSenders and closes them (their connection pools) after the test."""
    made = []

    def make(kannel_gateway, **options):
        made.append(KannelSender(kannel_gateway, **options))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.05)


def deliver_receipts_to(gate, receiver, kannel_gateway):
    """Make the receiver do what an integration's callback view does."""
    receipts = []

    def handle(request):
        receipt = kannel_gateway.receipt(request.params)
        if receipt:
            gate.delivery_report(*receipt)
            receipts.append(receipt)
        return Answer(200, b"ok")

    receiver.handler = handle
    return receipts


def code_in(text):
    return text.rsplit("#", 1)[1]


def test_a_code_reaches_the_fake_smsc_and_its_delivery_report_comes_back(
    kannel, receiver, sms_settings, senders, caplog
):
    caplog.set_level(logging.DEBUG)
    kannel_gateway = gateway(kannel, receiver)
    sender = Recording(senders(kannel_gateway))
    gate = Verifier(sms_settings, sender=sender)
    events = []
    gate.subscribe(events.append)
    receipts = deliver_receipts_to(gate, receiver, kannel_gateway)

    challenge = gate.start_sms("alice", FR, purpose="enroll")

    [(to, text, reference)] = sender.sent
    assert (to, reference) == (FR, f"{challenge.id}~1")
    [received] = kannel.wait_for(FR)
    assert (received.sender, received.receiver, received.kind) == ("Acme", FR, "text")
    assert received.text == text  # exactly the text otpgate rendered, newlines included
    code = code_in(text)
    assert text == (
        f"Acme: your verification code is {code}. It expires in 5 min. Never share it."
        f"\n\n@acme.example #{code}"
    )

    wait_until(lambda: receipts)
    assert receipts == [(f"{challenge.id}~1", "delivered")]
    assert receiver.errors == []
    [report] = receiver.requests
    assert report.path == "/otpgate/kannel"
    assert (report.params["ref"], report.params["type"]) == (f"{challenge.id}~1", "1")
    assert code not in report.url and FR[1:] not in report.url
    delivered = [e for e in events if e.name.value == "challenge_delivered"]
    assert [e.challenge_id for e in delivered] == [challenge.id]
    assert gate.get(challenge.id).status is Status.PENDING

    verification = gate.check(challenge.id, code, subject="alice")
    assert verification.factor == "sms"
    assert "kannel accepted an SMS to +33 ••• ••• 5678" in caplog.text
    assert code not in caplog.text and FR[1:] not in caplog.text and PASSWORD not in caplog.text


def test_a_chinese_text_travels_as_ucs2(kannel, sms_settings, senders):
    sender = Recording(senders(gateway(kannel)))
    gate = Verifier(sms_settings, sender=sender)
    challenge = gate.start_sms("li", CN, purpose="enroll")  # a Chinese number: Chinese text
    [(_, text, _)] = sender.sent
    code = code_in(text)
    assert text.startswith(f"【Acme】您的验证码是{code}，5分钟内有效。")
    [received] = kannel.wait_for(CN)
    assert (received.receiver, received.kind, received.text) == (CN, "ucs-2", text)
    gate.check(challenge.id, code)


async def test_the_async_sender_goes_through_kannel_too(kannel, sms_settings):
    async with AsyncKannelSender(gateway(kannel)) as sender:
        gate = AsyncVerifier(sms_settings, sender=sender)
        challenge = await gate.start_sms("carla", ES, purpose="enroll", locale="en")
        [received] = kannel.wait_for(ES)
        assert received.text.startswith("Acme: your verification code is ")
        await gate.check(challenge.id, code_in(received.text))


def test_kannel_refusals_are_typed(kannel):
    wrong = gateway(kannel, password="wrong-password")
    with KannelSender(wrong) as sender, pytest.raises(GatewayError) as caught:
        sender.send(IT, "Acme: your verification code is 123456.")
    # wrong credentials: this gateway's problem, another one may deliver
    assert (caught.value.detail, caught.value.retryable) == ("HTTP 403", True)
    with KannelSender(gateway(kannel)) as sender, pytest.raises(GatewayError) as caught:
        sender.send("not-a-number", "Acme: your verification code is 123456.")
    assert (caught.value.detail, caught.value.retryable) == ("HTTP 400", False)


def test_an_outage_fails_the_challenge_and_the_failover_chain_delivers(
    kannel, sms_settings, senders
):
    port = free_port()
    spare = kannel.start_smsbox(port, "spare")
    down = senders(gateway(kannel, url=f"http://127.0.0.1:{port}"), timeout=2)
    down.send(IT, "warm-up through the second smsbox")
    assert kannel.wait_for(IT)[0].text == "warm-up through the second smsbox"
    stop(spare)  # the smsbox goes away

    gate = Verifier(sms_settings, sender=down)
    with pytest.raises(DeliveryFailed) as caught:
        gate.start_sms("bob", DE, purpose="enroll")
    assert caught.value.retryable
    challenge_id = caught.value.challenge_id
    assert gate.get(challenge_id).status is Status.FAILED
    assert [m for m in kannel.received() if m.receiver == DE] == []

    with pytest.raises(GatewayError) as direct:
        down.send(DE, "Acme: your verification code is 123456.")
    assert direct.value.retryable
    assert direct.value.detail == "connection failed (ConnectError)"
    assert "123456" not in repr(direct.value) and DE[3:] not in repr(direct.value)

    main = senders(gateway(kannel))
    gate.sender = FailoverSender([down, main])
    gate.resend(challenge_id)  # at once: a failed send gives the cooldown back
    [received] = kannel.wait_for(DE)
    assert gate.get(challenge_id).status is Status.PENDING
    gate.check(challenge_id, code_in(received.text))
