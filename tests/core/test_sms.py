"""SMS challenges: the behaviour suite, run on every verifier flavour and every store."""

from __future__ import annotations

import pytest

from otpgate import (
    ChallengeExpired,
    ContextMismatch,
    DeliveryFailed,
    FactorNotEnrolled,
    InvalidCode,
    MalformedInput,
    MaxAttemptsReached,
    ResendCooldown,
    SendLimitReached,
    Settings,
    Status,
)
from tests.conftest import KEY, OTHER_PHONE, PHONE


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def enroll(gate, outbox, subject="alice", phone=PHONE):
    challenge = gate.start_sms(subject, phone, purpose="enroll")
    gate.check(challenge.id, outbox.last_code_for(phone))
    return challenge


def test_enrollment_adds_a_verified_phone(gate, outbox):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    assert challenge.status is Status.PENDING
    assert challenge.masked_phone == "+33 ••• ••• 5678"
    assert gate.credentials.phones("alice") == []
    verification = gate.check(challenge.id, outbox.last_code_for(PHONE), subject="alice")
    assert (verification.subject, verification.purpose, verification.factor) == (
        "alice",
        "enroll",
        "sms",
    )
    assert gate.credentials.phones("alice") == [PHONE]


def test_login_uses_the_verified_phone(gate, outbox):
    enroll(gate, outbox)
    challenge = gate.start_sms("alice")
    assert len(outbox.messages_to(PHONE)) == 2
    verification = gate.check(challenge.id, outbox.last_code_for(PHONE))
    assert verification.purpose == "login"


def test_login_without_a_phone_or_to_an_unverified_one_is_refused(gate, outbox):
    with pytest.raises(FactorNotEnrolled):
        gate.start_sms("alice")
    enroll(gate, outbox)
    with pytest.raises(FactorNotEnrolled):
        gate.start_sms("alice", OTHER_PHONE)
    assert outbox.messages_to(OTHER_PHONE) == []


def test_the_message_holds_the_code_and_the_webotp_line(make_gate, outbox):
    gate = make_gate(Settings(secret_keys=(KEY,), brand="Acme", webotp_domain="acme.example"))
    gate.start_sms("alice", PHONE, purpose="enroll")
    text = outbox.messages[-1].text
    code = outbox.last_code_for(PHONE)
    assert text.startswith("Acme: your verification code is " + code)
    assert text.endswith(f"\n\n@acme.example #{code}")


def test_a_code_approves_once(gate, outbox):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    gate.check(challenge.id, code)
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, code)


def test_expiry_is_exactly_at_the_lifetime(gate, outbox, clock):
    first = gate.start_sms("alice", PHONE, purpose="enroll")
    clock.advance(299.999)
    gate.check(first.id, outbox.last_code_for(PHONE))
    clock.advance(31)
    second = gate.start_sms("alice", PHONE, purpose="enroll")
    clock.advance(300)
    with pytest.raises(ChallengeExpired):
        gate.check(second.id, outbox.last_code_for(PHONE))


def test_the_fifth_wrong_code_ends_the_challenge(make_gate, outbox):
    gate = make_gate(Settings(secret_keys=(KEY,), lockout_after=50))
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidCode) as caught:
            gate.check(challenge.id, wrong(code))
        assert caught.value.attempts_left == left
    with pytest.raises(MaxAttemptsReached):
        gate.check(challenge.id, wrong(code))
    with pytest.raises(MaxAttemptsReached):
        gate.check(challenge.id, code)
    assert gate.get(challenge.id).status is Status.MAX_ATTEMPTS_REACHED


def test_resend_sends_the_same_code_with_a_doubling_cooldown(make_gate, outbox, clock):
    gate = make_gate(Settings(secret_keys=(KEY,), code_lifetime=600))
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    with pytest.raises(ResendCooldown) as caught:
        gate.resend(challenge.id)
    assert caught.value.retry_after == 30
    for wait in (30, 60, 120, 240):
        clock.advance(wait - 1)
        with pytest.raises(ResendCooldown):
            gate.resend(challenge.id)
        clock.advance(1)
        gate.resend(challenge.id)
        assert outbox.last_code_for(PHONE) == code
    assert len(outbox.messages_to(PHONE)) == 5
    assert gate.get(challenge.id).sends_left == 0


def test_at_most_five_sends_per_challenge(make_gate, outbox, clock):
    gate = make_gate(Settings(secret_keys=(KEY,), resend_cooldown=0, code_lifetime=600))
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    for _ in range(4):
        gate.resend(challenge.id)
    with pytest.raises(SendLimitReached):
        gate.resend(challenge.id)
    assert len(outbox.messages_to(PHONE)) == 5


def test_a_late_first_message_still_works_after_a_resend(gate, outbox, clock):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    first = outbox.messages[-1]
    clock.advance(30)
    gate.resend(challenge.id)
    gate.check(challenge.id, first.code)


def test_resend_after_expiry_is_refused(gate, outbox, clock):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    clock.advance(300)
    with pytest.raises(ChallengeExpired):
        gate.resend(challenge.id)


def test_cancel_ends_a_challenge(gate, outbox):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    assert gate.cancel(challenge.id) is True
    assert gate.cancel(challenge.id) is False
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, outbox.last_code_for(PHONE))


def test_a_challenge_of_someone_else_is_not_found(gate, outbox):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, outbox.last_code_for(PHONE), subject="mallory")
    with pytest.raises(ChallengeExpired):
        gate.get(challenge.id, subject="mallory")
    gate.check(challenge.id, outbox.last_code_for(PHONE), subject="alice")


def test_unknown_and_expired_ids_get_the_same_answer(gate, outbox, clock):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    forged = challenge.id[:23] + "A" * 22
    clock.advance(301)
    errors = []
    for challenge_id in (challenge.id, forged, "not-an-id"):
        with pytest.raises(ChallengeExpired) as caught:
            gate.check(challenge_id, "123456")
        errors.append((type(caught.value), caught.value.message))
    assert len(set(errors)) == 1


class TestTransactionBinding:
    CONTEXT = {"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}

    def start(self, gate):
        return gate.start_sms(
            "alice", purpose="transaction", context=self.CONTEXT, summary="EUR 250.00 to DE89…"
        )

    def test_the_same_context_approves(self, gate, outbox):
        enroll(gate, outbox)
        challenge = self.start(gate)
        assert challenge.bound_to_context
        assert "EUR 250.00 to DE89…" in outbox.messages[-1].text
        reordered = dict(reversed(list(self.CONTEXT.items())))
        verification = gate.check(challenge.id, outbox.last_code_for(PHONE), context=reordered)
        assert verification.context_digest

    @pytest.mark.parametrize(
        "changed",
        [
            {"amount": "2500.00"},
            {"payee": "DE89370400440532013001"},
            {"currency": "USD"},
            {"extra": "x"},
        ],
    )
    def test_another_context_is_refused_even_with_the_right_code(self, gate, outbox, changed):
        enroll(gate, outbox)
        challenge = self.start(gate)
        code = outbox.last_code_for(PHONE)
        with pytest.raises(ContextMismatch):
            gate.check(challenge.id, code, context={**self.CONTEXT, **changed})
        with pytest.raises(ContextMismatch):
            gate.check(challenge.id, code)
        assert gate.get(challenge.id).attempts_left == 3
        gate.check(challenge.id, code, context=self.CONTEXT)

    def test_an_unbound_challenge_refuses_a_context(self, gate, outbox):
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
        with pytest.raises(ContextMismatch):
            gate.check(challenge.id, outbox.last_code_for(PHONE), context=self.CONTEXT)

    def test_a_code_confirms_only_the_action_it_was_sent_for(self, gate, outbox):
        enroll(gate, outbox)
        challenge = gate.start_sms(
            "alice", purpose="transaction", context=self.CONTEXT, action="payments:pay"
        )
        code = outbox.last_code_for(PHONE)
        # the same details, another operation (or none named): refused, the attempt counts
        for action in ("payments:standing-order", "payments:cancel", None):
            with pytest.raises(ContextMismatch):
                gate.check(challenge.id, code, context=self.CONTEXT, action=action)
        assert gate.get(challenge.id).attempts_left == 2
        verification = gate.check(
            challenge.id, code, context=self.CONTEXT, action="payments:pay", subject="alice"
        )
        assert verification.purpose == "transaction"

    def test_a_code_without_an_action_is_refused_by_an_action(self, gate, outbox):
        enroll(gate, outbox)
        challenge = self.start(gate)
        code = outbox.last_code_for(PHONE)
        with pytest.raises(ContextMismatch):
            gate.check(challenge.id, code, context=self.CONTEXT, action="payments:pay")
        gate.check(challenge.id, code, context=self.CONTEXT)

    def test_an_action_alone_binds_the_code(self, gate, outbox):
        enroll(gate, outbox)
        challenge = gate.start_sms("alice", purpose="transaction", action="close-account")
        assert challenge.bound_to_context
        code = outbox.last_code_for(PHONE)
        for other in ({"action": None}, {"action": "export-data"}, {"context": {}}):
            with pytest.raises(ContextMismatch):
                gate.check(challenge.id, code, **{"action": "close-account", **other})
        gate.check(challenge.id, code, action="close-account")

    @pytest.mark.parametrize(
        "action", ["", "a" * 201, 7, b"pay", "pay\n", "pay\x1fcancel", "\ud800"], ids=repr
    )
    def test_an_action_is_short_printable_text(self, gate, outbox, action):
        enroll(gate, outbox)
        with pytest.raises(MalformedInput):
            gate.start_sms("alice", purpose="transaction", context=self.CONTEXT, action=action)
        assert len(outbox.messages) == 1
        longest = "é" * 200
        challenge = gate.start_sms(
            "alice", purpose="transaction", context=self.CONTEXT, action=longest
        )
        code = outbox.last_code_for(PHONE)
        with pytest.raises(MalformedInput):
            gate.check(challenge.id, code, context=self.CONTEXT, action=action)
        assert gate.get(challenge.id).attempts_left == 5
        gate.check(challenge.id, code, context=self.CONTEXT, action=longest)


class TestDeliveryFailure:
    def test_failure_marks_the_challenge_and_gives_back_the_cooldown(self, gate, outbox):
        outbox.failing = DeliveryFailed("gateway down", retryable=True)
        with pytest.raises(DeliveryFailed) as caught:
            gate.start_sms("alice", PHONE, purpose="enroll")
        challenge_id = caught.value.challenge_id
        assert gate.get(challenge_id).status is Status.FAILED
        outbox.failing = None
        gate.resend(challenge_id)
        assert gate.get(challenge_id).status is Status.PENDING
        gate.check(challenge_id, outbox.last_code_for(PHONE))

    def test_an_unexpected_sender_error_is_a_typed_delivery_error(self, make_gate):
        class Broken:
            nonblocking = True

            def send(self, to, text, *, reference=""):
                raise RuntimeError(f"socket closed while sending {text!r} to {to}")

        gate = make_gate(sender=Broken())
        with pytest.raises(DeliveryFailed) as caught:
            gate.start_sms("alice", PHONE, purpose="enroll")
        assert PHONE not in str(caught.value)
        assert "socket" not in str(caught.value)

    def test_a_failed_receipt_marks_the_challenge_failed(self, gate, outbox):
        events = []
        gate.subscribe(events.append)
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
        assert outbox.messages[-1].reference == f"{challenge.id}~1"
        gate.delivery_report(challenge.id, "delivered")
        assert gate.get(challenge.id).status is Status.PENDING
        gate.delivery_report(challenge.id, "undelivered")
        assert gate.get(challenge.id).status is Status.FAILED
        gate.resend(challenge.id)  # no cooldown after a failed delivery
        assert [e.name.value for e in events][-3:] == [
            "challenge_delivered",
            "delivery_failed",
            "challenge_sent",
        ]
        with pytest.raises(MalformedInput):
            gate.delivery_report(challenge.id, "lost in space")

    def test_a_late_failure_of_an_earlier_send_does_not_fail_the_newer_one(
        self, gate, outbox, clock
    ):
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
        first = outbox.messages[-1].reference
        clock.advance(30)
        gate.resend(challenge.id)
        second = outbox.messages[-1].reference
        assert second == f"{challenge.id}~2"
        gate.delivery_report(first, "undelivered")
        assert gate.get(challenge.id).status is Status.PENDING
        gate.delivery_report(second, "failed")
        assert gate.get(challenge.id).status is Status.FAILED

    def test_a_gateway_error_keeps_its_type(self, gate, outbox):
        class GatewayDown(DeliveryFailed):
            code = "delivery_failed"

        outbox.failing = GatewayDown("gateway down", retryable=False)
        with pytest.raises(GatewayDown) as caught:
            gate.start_sms("alice", PHONE, purpose="enroll")
        assert caught.value.challenge_id and caught.value.retryable is False

    def test_a_failed_send_still_counts_toward_the_budget(self, gate, outbox):
        outbox.failing = DeliveryFailed()
        for _ in range(5):
            with pytest.raises(DeliveryFailed):
                gate.start_sms("alice", PHONE, purpose="enroll")
        outbox.failing = None
        with pytest.raises(SendLimitReached):
            gate.start_sms("alice", PHONE, purpose="enroll")
