"""One API for every factor: ``gate.offer``, ``gate.start``, ``gate.verify`` and the preferred
factor, on every verifier flavour and store; a toy factor registered at test time works
through the same API with no change to the core."""

from __future__ import annotations

import pytest

from otpgate import (
    ChallengeExpired,
    ConfigurationError,
    ContextMismatch,
    EventName,
    FactorNotAllowed,
    FactorNotEnrolled,
    FactorNotPreferable,
    FreshOtpRequired,
    InvalidCode,
    MalformedInput,
    MemoryCredentials,
    UnknownFactor,
    register_factor,
)
from otpgate.core.factors import builtin_factors, registry
from tests.conftest import PHONE
from tests.core.test_factors import enrolled
from tests.factors import PinFactor


def with_phone(gate, subject="alice"):
    gate.credentials.add_phone(subject, PHONE)


def names(options):
    return [option.name for option in options]


class TestSignIn:
    def test_an_app_user_signs_in_with_no_sms_sent(self, gate, clock, outbox):
        totp = enrolled(gate, clock)
        with_phone(gate)
        assert gate.preferred_factor("alice") == "totp"
        offer = gate.offer("alice", "login")
        assert names(offer) == ["totp", "sms"]
        assert offer[0].preferred and not offer[0].sends
        assert gate.start("alice", "totp", purpose="login") is None
        verification = gate.verify("alice", "totp", totp.at(clock()), purpose="login")
        assert (verification.factor, verification.purpose) == ("totp", "login")
        assert outbox.messages == []

    def test_sms_is_started_and_verified_through_the_same_calls(self, gate, outbox):
        with_phone(gate)
        challenge = gate.start("alice", "sms", purpose="action", locale="en")
        assert challenge.purpose == "action" and challenge.masked_phone.endswith("5678")
        verification = gate.verify(
            "alice",
            "sms",
            outbox.last_code_for(PHONE),
            purpose="action",
            challenge_id=challenge.id,
        )
        assert (verification.factor, verification.challenge_id) == ("sms", challenge.id)

    def test_sms_without_a_started_challenge_is_expired(self, gate):
        with_phone(gate)
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "sms", "123456", purpose="login")

    def test_a_recovery_code_signs_in_and_is_used_up(self, gate, clock):
        enrolled(gate, clock)
        codes = gate.recovery.generate("alice")
        assert gate.verify("alice", "recovery", codes[0], purpose="login").factor == "recovery"
        assert gate.recovery.remaining("alice") == len(codes) - 1


class TestPurpose:
    def test_check_refuses_a_challenge_started_for_another_purpose(self, gate, outbox):
        with_phone(gate)
        events = []
        gate.subscribe(events.append)
        challenge = gate.start_sms("alice", purpose="login")
        code = outbox.last_code_for(PHONE)
        for other in ("action", "transaction", "enroll"):
            with pytest.raises(ChallengeExpired):
                gate.check(challenge.id, code, subject="alice", purpose=other)
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "sms", code, purpose="action", challenge_id=challenge.id)
        # refused without counting an attempt or spending the code
        assert gate.get(challenge.id).attempts_left == gate.settings.max_attempts
        failures = [e for e in events if e.name is EventName.VERIFICATION_FAILED]
        assert failures[-1].detail == {"reason": "expired", "expected_purpose": "action"}
        assert gate.check(challenge.id, code, subject="alice", purpose="login").purpose == "login"

    def test_check_without_a_purpose_works_as_before(self, gate, outbox):
        with_phone(gate)
        challenge = gate.start_sms("alice", purpose="action")
        assert gate.check(challenge.id, outbox.last_code_for(PHONE)).purpose == "action"

    def test_an_unknown_purpose_is_malformed(self, gate):
        with_phone(gate)
        challenge = gate.start_sms("alice")
        with pytest.raises(MalformedInput):
            gate.check(challenge.id, "123456", purpose="payday")
        for call in (
            lambda: gate.verify("alice", "sms", "123456", purpose="payday"),
            lambda: gate.start("alice", "sms", purpose="payday"),
            lambda: gate.offer("alice", "payday"),
        ):
            with pytest.raises(MalformedInput):
                call()


class TestRefusals:
    def test_unknown_unsuitable_and_missing_factors_are_typed_errors(self, gate, clock, outbox):
        with_phone(gate)
        with pytest.raises(UnknownFactor):
            gate.verify("alice", "pigeon", "123456", purpose="login")
        with pytest.raises(UnknownFactor):
            gate.start("alice", "pigeon", purpose="login")
        with pytest.raises(FactorNotEnrolled):
            gate.verify("alice", "totp", "123456", purpose="login")
        with pytest.raises(FactorNotEnrolled):
            gate.verify("alice", "recovery", "AAAA-BBBB-CCCC", purpose="login")
        with pytest.raises(FactorNotEnrolled):
            gate.start("bob", "sms", purpose="login")
        assert outbox.messages == []

    def test_a_recovery_code_never_confirms_a_transaction(self, gate, clock):
        enrolled(gate, clock)
        codes = gate.recovery.generate("alice")
        assert names(gate.offer("alice", "transaction")) == ["totp"]
        with pytest.raises(FactorNotAllowed):
            gate.verify("alice", "recovery", codes[0], purpose="transaction")
        with pytest.raises(FactorNotAllowed):
            gate.start("alice", "recovery", purpose="transaction")
        assert gate.recovery.remaining("alice") == len(codes)  # nothing used up

    def test_a_subject_without_factors_is_offered_nothing_but_enrollment(self, gate):
        assert gate.offer("nobody", "login") == []
        assert gate.offer("nobody", "transaction") == []
        assert gate.preferred_factor("nobody") is None
        assert names(gate.offer("nobody", "enroll")) == ["totp", "sms"]


class TestTransactions:
    DETAILS = {"amount": "12.50", "currency": "EUR", "payee": "ACME"}

    def test_sms_binds_the_details_and_the_action(self, gate, outbox):
        with_phone(gate)
        challenge = gate.start(
            "alice",
            "sms",
            purpose="transaction",
            context=self.DETAILS,
            action="pay",
            summary="Pay 12.50 EUR to ACME",
        )
        assert challenge.bound_to_context
        assert "12.50 EUR" in outbox.messages[-1].text
        code = outbox.last_code_for(PHONE)
        arguments = {"purpose": "transaction", "challenge_id": challenge.id}
        with pytest.raises(ContextMismatch):
            gate.verify("alice", "sms", code, context=self.DETAILS, action="refund", **arguments)
        verification = gate.verify(
            "alice", "sms", code, context=self.DETAILS, action="pay", **arguments
        )
        assert verification.purpose == "transaction" and verification.context_digest

    def test_an_app_confirms_a_transaction_and_carries_its_binding(self, gate, clock):
        totp = enrolled(gate, clock)
        verification = gate.verify(
            "alice",
            "totp",
            totp.at(clock()),
            purpose="transaction",
            context=self.DETAILS,
            action="pay",
        )
        assert verification.purpose == "transaction"
        assert verification.context_digest == gate._binding_digest(self.DETAILS, "pay")
        assert verification.context_digest != gate._binding_digest(self.DETAILS, "refund")


class TestEnroll:
    def test_a_number_is_added_through_start_and_verify(self, gate, outbox):
        challenge = gate.start("alice", "sms", purpose="enroll", destination=PHONE)
        code = outbox.last_code_for(PHONE)
        gate.verify("alice", "sms", code, purpose="enroll", challenge_id=challenge.id)
        assert gate.factors("alice").masked_phones == ("+33 ••• ••• 5678",)

    def test_an_app_is_confirmed_only_by_a_session_that_may_change_factors(self, gate, clock):
        import pyotp

        with_phone(gate)
        secret = pyotp.TOTP(gate.totp.enroll("alice").secret)
        with pytest.raises(FreshOtpRequired):
            gate.verify(
                "alice", "totp", secret.at(clock()), purpose="enroll", may_change_factors=False
            )
        assert not gate.totp.is_enrolled("alice")
        gate.verify("alice", "totp", secret.at(clock()), purpose="enroll")
        assert gate.totp.is_enrolled("alice")

    def test_a_first_app_needs_no_fresh_session(self, gate, clock):
        import pyotp

        secret = pyotp.TOTP(gate.totp.enroll("alice").secret)
        gate.verify("alice", "totp", secret.at(clock()), purpose="enroll", may_change_factors=False)
        assert gate.totp.is_enrolled("alice")

    def test_setup_hands_over_what_each_factor_needs_shown(self, gate, clock, outbox):
        import pyotp

        from otpgate import PrimaryFactorRequired

        with pytest.raises(PrimaryFactorRequired):  # recovery codes stand in for a factor
            gate.setup("alice", "recovery")
        sms = gate.setup("alice", "sms", destination=PHONE)
        assert (sms.factor, sms.needs_proof, sms.secrets()) == ("sms", True, {})
        assert sms.challenge.purpose == "enroll" and outbox.last_code_for(PHONE)
        app = gate.setup("alice", "totp", label="alice@example.com")
        shown = app.secrets()
        assert app.needs_proof and app.challenge is None
        assert pyotp.parse_uri(shown["otpauth_uri"]).name == "alice@example.com"
        assert "secret" not in repr(app) and shown["secret"] not in repr(app)
        gate.verify("alice", "totp", pyotp.TOTP(shown["secret"]).at(clock()), purpose="enroll")
        codes = gate.setup("alice", "recovery")
        assert not codes.needs_proof and len(codes.secrets()["recovery_codes"]) == 10
        assert gate.factors("alice").recovery_codes_left == 10

    def test_a_factor_with_no_setup_that_cannot_be_added_is_refused(self, make_gate):
        factors = builtin_factors()
        factors.register(PinFactor())
        gate = make_gate(registry=factors)
        with pytest.raises(FactorNotAllowed):
            gate.setup("alice", "pin")
        with pytest.raises(UnknownFactor):
            gate.setup("alice", "pigeon")


class TestPreference:
    def test_a_stored_choice_is_kept_while_the_subject_has_it(self, gate, clock, outbox):
        enrolled(gate, clock)
        with pytest.raises(FactorNotEnrolled):
            gate.set_preferred_factor("alice", "sms")
        with pytest.raises(UnknownFactor):
            gate.set_preferred_factor("alice", "pigeon")
        with_phone(gate)
        gate.set_preferred_factor("alice", "sms")
        assert gate.preferred_factor("alice") == "sms"
        assert names(gate.offer("alice", "login")) == ["sms", "totp"]
        assert gate.offer("alice", "login")[0].preferred
        gate.remove_phone("alice", PHONE)
        assert gate.preferred_factor("alice") == "totp"  # the choice is gone with the phone
        with_phone(gate)
        assert gate.preferred_factor("alice") == "sms"  # and stored still
        gate.set_preferred_factor("alice", None)
        assert gate.preferred_factor("alice") == "totp"
        assert outbox.messages == []

    def test_a_recovery_code_is_never_the_preferred_factor(self, gate, clock, outbox):
        enrolled(gate, clock)
        gate.recovery.generate("alice")
        with pytest.raises(FactorNotPreferable):
            gate.set_preferred_factor("alice", "recovery")
        assert gate.credentials.preferred_factor("alice") is None  # nothing stored
        # a choice stored before the rule (or by another program) is ignored when choosing
        gate.credentials.set_preferred_factor("alice", "recovery")
        assert gate.preferred_factor("alice") == "totp"
        offer = gate.offer("alice", "login")
        assert names(offer) == ["totp", "recovery"] and offer[0].preferred
        assert [option.preferable for option in offer] == [True, False]
        assert outbox.messages == []


class LegacyCredentials:
    """A repository written before preferences existed: everything but those two methods."""

    nonblocking = True

    def __init__(self) -> None:
        self._inner = MemoryCredentials()

    def __getattr__(self, name):
        if name in {"preferred_factor", "set_preferred_factor"}:
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_a_repository_without_preferences_still_serves_the_strongest(make_gate, clock):
    gate = make_gate(credentials=LegacyCredentials())
    enrolled(gate, clock)
    with_phone(gate)
    assert gate.preferred_factor("alice") == "totp"
    assert names(gate.offer("alice", "login")) == ["totp", "sms"]
    with pytest.raises(ConfigurationError):
        gate.set_preferred_factor("alice", "sms")


class TestAToyFactor:
    def test_it_is_offered_started_and_verified_with_no_core_change(self, make_gate):
        factors = builtin_factors()
        factors.register(PinFactor())
        gate = make_gate(registry=factors)
        with_phone(gate)
        offer = gate.offer("alice", "login")
        assert names(offer) == ["sms", "pin"]
        assert offer[1].input.length == 4 and not offer[1].sends
        assert gate.start("alice", "pin", purpose="action") is None
        verification = gate.verify("alice", "pin", "2468", purpose="action")
        assert (verification.factor, verification.purpose) == ("pin", "action")
        with pytest.raises(InvalidCode):
            gate.verify("alice", "pin", "1111", purpose="login")
        with pytest.raises(FactorNotAllowed):
            gate.verify("alice", "pin", "2468", purpose="transaction")
        gate.set_preferred_factor("alice", "pin")
        assert gate.preferred_factor("alice") == "pin"
        assert names(gate.offer("alice", "login")) == ["pin", "sms"]
        assert "pin" not in registry  # the shared registry is untouched

    def test_registering_it_globally_serves_every_verifier(self, make_gate):
        register_factor(PinFactor())
        try:
            gate = make_gate()
            assert names(gate.offer("alice", "login")) == ["pin"]
            assert gate.verify("alice", "pin", "2468", purpose="login").factor == "pin"
        finally:
            registry.unregister("pin")
        assert names(make_gate().offer("alice", "login")) == []
