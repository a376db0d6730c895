"""Voice calls as a channel of a verified phone (issue 13): the code read out digit by digit,
twice, in the user's language; its own tighter budget; budgets and lockout shared with SMS.
Every test runs on each store kind, sync and async."""

from __future__ import annotations

import io

import pytest

from otpgate import (
    DeliveryFailed,
    FactorNotAllowed,
    FactorNotEnrolled,
    InvalidCode,
    LockedOut,
    PhoneRejected,
    SendLimitReached,
    Settings,
    UnknownFactor,
)
from otpgate.core.errors import ConfigurationError
from otpgate.core.events import EventName
from otpgate.core.i18n import SHIPPED
from otpgate.core.voice import (
    ConsoleVoiceSender,
    OutboxVoiceSender,
    PhoneSender,
    compose_speech,
    register_voice_template,
    spoken_codes,
)
from tests.conftest import KEY, PHONE

CHINESE_PHONE = "+8613812345678"


@pytest.fixture
def calls() -> OutboxVoiceSender:
    return OutboxVoiceSender()


@pytest.fixture
def phone_gate(make_gate, outbox, calls):
    gate = make_gate(sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)
    return gate


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def test_voice_is_offered_as_the_alternative_to_sms_only_with_a_voice_sender(
    make_gate, outbox, calls
):
    without = make_gate()
    without.credentials.add_phone("alice", PHONE)
    assert [o.name for o in without.offer("alice", "login")] == ["sms"]
    with pytest.raises(UnknownFactor):
        without.start("alice", "voice", purpose="login")
    assert outbox.messages == []

    gate = make_gate(sender=outbox, voice_sender=calls)
    gate.credentials.add_phone("alice", PHONE)
    options = {o.name: o for o in gate.offer("alice", "action")}
    assert list(options) == ["sms", "voice"]
    assert options["sms"].preferred and not options["voice"].preferred
    assert options["voice"].alternative_to == "sms"
    assert options["voice"].sends and options["voice"].destination == "+33 ••• ••• 5678"
    assert options["voice"].as_dict()["alternative_to"] == "sms"
    assert gate.preferred_factor("alice") == "sms"  # a step never opens on a call


def test_voice_needs_a_verified_phone(phone_gate):
    assert [o.name for o in phone_gate.offer("bob", "login")] == []
    phone_gate.credentials.add_phone("bob", "+33612345600")
    phone_gate.credentials.remove_phone("bob", "+33612345600")
    with pytest.raises(FactorNotEnrolled):
        phone_gate.start("bob", "voice", purpose="login")


def test_a_step_up_by_voice_reads_the_code_twice_digit_by_digit(phone_gate, calls, outbox):
    challenge = phone_gate.start("alice", "voice", purpose="action", locale="en")
    assert outbox.messages == []  # a call, not a text
    [call] = calls.calls_to(PHONE)
    code = call.code
    assert code is not None and len(code) == 6
    spoken = ", ".join(code)
    assert call.text.count(spoken) == 2 and call.language == "en-US"
    assert spoken_codes(call.text) == [code, code]
    verification = phone_gate.verify(
        "alice", "voice", code, purpose="action", challenge_id=challenge.id
    )
    assert (verification.factor, verification.purpose) == ("voice", "action")


def test_the_call_speaks_the_users_language(phone_gate, calls):
    phone_gate.start("alice", "voice", purpose="login", locale="zh-Hans")
    call = calls.calls[-1]
    assert call.language == "zh-CN" and "验证码" in call.text
    assert spoken_codes(call.text) == [call.code, call.code]
    assert "，".join(call.code) in call.text


def test_the_language_falls_back_to_the_numbers_region():
    settings = Settings(secret_keys=(KEY,))
    speech = compose_speech(settings, "123456", region="CN")
    assert speech.language == "zh-CN" and "1，2，3，4，5，6" in speech.text
    assert compose_speech(settings, "123456", locale="it").language == "en-US"
    assert "123456" not in str(speech) and "123456" not in repr(speech)


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_every_shipped_language_is_spoken_in_its_own_words(language):
    settings = Settings(secret_keys=(KEY,), brand="Example Bank")
    english = compose_speech(settings, "123456")
    speech = compose_speech(settings, "123456", locale=language)
    assert speech.language != "en-US" and speech.text != english.text
    assert speech.language.split("-")[0] == language.split("-")[0]
    assert "Example Bank" in speech.text and "Goodbye" not in speech.text
    assert spoken_codes(speech.text) == ["123456", "123456"]


def test_a_new_language_must_say_the_code_twice():
    with pytest.raises(ConfigurationError):
        register_voice_template("xx", "Code {digits}.", "xx-XX")


def test_resending_calls_again_with_the_same_code(phone_gate, calls, outbox, clock):
    challenge = phone_gate.start("alice", "voice", purpose="login")
    clock.advance(30)
    phone_gate.resend(challenge.id)
    assert [c.code for c in calls.calls] == [calls.calls[0].code] * 2
    assert outbox.messages == []


def test_voice_neither_enrolls_nor_confirms_transactions(phone_gate):
    with pytest.raises(FactorNotAllowed):
        phone_gate.start("alice", "voice", purpose="enroll", destination=PHONE)
    with pytest.raises(FactorNotAllowed):
        phone_gate.start("alice", "voice", purpose="transaction", context={"amount": "1"})


def test_calls_have_their_own_tighter_budget(make_gate, outbox, calls):
    settings = Settings(secret_keys=(KEY,), voice_budget="2/24h")
    gate = make_gate(settings, sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)
    for _ in range(2):
        gate.start("alice", "voice", purpose="login")
    with pytest.raises(SendLimitReached) as refused:
        gate.start("alice", "voice", purpose="login")
    assert refused.value.scope == "voice" and len(calls.calls) == 2
    gate.start("alice", "sms", purpose="login")  # texts still go out
    assert len(outbox.messages) == 1


def test_budgets_hold_across_sms_and_voice_together(make_gate, outbox, calls):
    settings = Settings(secret_keys=(KEY,), subject_budget="4/24h", ip_budget="20/h")
    gate = make_gate(settings, sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)
    gate.start("alice", "sms", purpose="login")
    gate.start("alice", "voice", purpose="login")
    gate.start("alice", "sms", purpose="login")
    gate.start("alice", "voice", purpose="login")
    for factor in ("sms", "voice"):
        with pytest.raises(SendLimitReached) as refused:
            gate.start("alice", factor, purpose="login")
        assert refused.value.scope == "subject"
    assert (len(outbox.messages), len(calls.calls)) == (2, 2)


def test_the_phone_budget_counts_calls_too(make_gate, outbox, calls):
    settings = Settings(secret_keys=(KEY,), phone_budget_short="3/15m", voice_budget="3/24h")
    gate = make_gate(settings, sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)
    gate.start("alice", "voice", purpose="login")
    gate.start("alice", "voice", purpose="login")
    gate.start("alice", "sms", purpose="login")
    with pytest.raises(SendLimitReached) as refused:
        gate.start("alice", "sms", purpose="login")
    assert refused.value.scope == "phone"


def test_wrong_codes_by_sms_and_by_voice_lock_out_together(make_gate, outbox, calls):
    settings = Settings(secret_keys=(KEY,), lockout_after=4, max_attempts=5)
    gate = make_gate(settings, sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)
    texted = gate.start("alice", "sms", purpose="login")
    called = gate.start("alice", "voice", purpose="login")
    sms_code, voice_code = outbox.last_code_for(PHONE), calls.last_code_for(PHONE)
    for challenge, factor, code in [
        (texted, "sms", sms_code),
        (called, "voice", voice_code),
        (texted, "sms", sms_code),
    ]:
        with pytest.raises(InvalidCode):
            gate.verify("alice", factor, wrong(code), purpose="login", challenge_id=challenge.id)
    with pytest.raises(LockedOut):
        gate.verify("alice", "voice", wrong(voice_code), purpose="login", challenge_id=called.id)
    with pytest.raises(LockedOut):  # even the right code waits now
        gate.verify("alice", "voice", voice_code, purpose="login", challenge_id=called.id)


def test_numbers_refused_for_sms_are_refused_for_calls(make_gate, outbox, calls):
    settings = Settings(secret_keys=(KEY,), denied_regions=frozenset({"FR"}))
    gate = make_gate(settings, sender=PhoneSender(outbox, calls))
    gate.credentials.add_phone("alice", PHONE)  # verified before the policy changed
    with pytest.raises(PhoneRejected):
        gate.start("alice", "voice", purpose="login")
    assert calls.calls == []


def test_a_failed_call_is_a_typed_error_and_an_event(phone_gate, calls):
    events = []
    phone_gate.subscribe(events.append)
    calls.failing = DeliveryFailed()
    with pytest.raises(DeliveryFailed) as failed:
        phone_gate.start("alice", "voice", purpose="login")
    assert failed.value.challenge_id
    names = [(e.name, e.factor) for e in events]
    assert (EventName.CHALLENGE_STARTED, "voice") in names
    assert (EventName.DELIVERY_FAILED, "voice") in names


def test_a_status_callback_fails_the_call_and_names_voice(phone_gate, calls):
    events = []
    phone_gate.subscribe(events.append)
    challenge = phone_gate.start("alice", "voice", purpose="login")
    phone_gate.delivery_report(calls.calls[-1].reference, "failed")
    assert phone_gate.get(challenge.id).status.value == "failed"
    assert (EventName.DELIVERY_FAILED, "voice") in [(e.name, e.factor) for e in events]


def test_the_store_never_holds_the_number_or_the_code_in_clear(phone_gate, calls):
    challenge = phone_gate.start("alice", "voice", purpose="login")
    record = phone_gate.store.get_challenge(challenge.id)
    code = calls.calls[-1].code
    for value in vars(record).values():
        assert PHONE not in str(value) and PHONE[1:] not in str(value)
        assert code not in str(value)


def test_the_console_voice_sender_masks_the_number():
    stream = io.StringIO()
    speech = compose_speech(Settings(secret_keys=(KEY,)), "123456")
    ConsoleVoiceSender(stream).call(PHONE, speech)
    printed = stream.getvalue()
    assert "+33 ••• ••• 5678" in printed and PHONE not in printed and "1, 2, 3" in printed


def test_otpgate_check_sees_both_parts_of_a_phone_sender(outbox, calls):
    from otpgate.check.probes import targets

    assert [inner for _, inner in targets(PhoneSender(outbox, calls))] == [outbox, calls]


def test_a_phone_sender_needs_both_parts(outbox, calls):
    with pytest.raises(ConfigurationError):
        PhoneSender(calls, outbox)


def test_the_development_senders_that_also_call(make_gate):
    from otpgate.check.probes import probe_sender
    from otpgate.core.wiring import build_sender

    for name in ("console+voice", "outbox+voice"):
        gate = make_gate(sender=build_sender(name))
        gate.credentials.add_phone("alice", PHONE)
        assert [o.name for o in gate.offer("alice", "login")] == ["sms", "voice"]
        findings = probe_sender(name)
        assert [f.level for f in findings] == ["warn", "warn"]  # development only
    assert [o.name for o in make_gate(sender=build_sender("outbox")).offer("x", "login")] == []


@pytest.mark.parametrize(
    ("number", "refusal"),
    [
        ("+449098790000", "phone_type_not_allowed"),  # UK premium rate
        ("+19005550123", "phone_type_not_allowed"),  # US premium rate
        ("+881612345678", "phone_network_not_allowed"),  # Iridium satellite phone
    ],
)
def test_premium_and_international_network_numbers_are_never_called(make_gate, number, refusal):
    calls = OutboxVoiceSender()
    gate = make_gate(voice_sender=calls)
    gate.credentials.add_phone("alice", number)  # stored by a policy since tightened
    with pytest.raises(PhoneRejected) as refused:
        gate.start("alice", "voice", purpose="login")
    assert refused.value.code == refusal and calls.calls == []
