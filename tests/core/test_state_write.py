"""Issue 17: ``gate.verify(..., then_put=...)`` writes a state when (and only when) the check
approves, on every store (folded into the check's own store step on the memory store and
standalone Redis; right after it on a Redis Cluster, a store that cannot fold, a factor of a
plugin, a recovery code, an enrollment), on both verifier flavours. A refusal, even one that
comes after the store approved, writes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from otpgate import (
    ChallengeExpired,
    CodeReplayed,
    ContextMismatch,
    FreshOtpRequired,
    InvalidCode,
    LockedOut,
    MaxAttemptsReached,
    MemoryCredentials,
    MemoryStore,
    Settings,
    Verification,
)
from otpgate.core.factors import builtin_factors
from otpgate.core.factors.totp import AuthenticatorFactor
from otpgate.core.state_write import StateWrite, folds_into
from tests.conftest import KEY, PHONE
from tests.core.test_email import NORMAL, enroll, smtp_sender
from tests.core.test_factors import enrolled
from tests.factors import PinFactor
from tests.mail import mail, mail_server  # noqa: F401  (fixtures, requested by name)

STATE = "s:fold-test"


class Writes:
    """A ``then_put``: the state names the verification it records; each call is kept."""

    def __init__(self, key: str = STATE) -> None:
        self.key = key
        self.built: list[Verification] = []

    def __call__(self, verification: Verification) -> StateWrite:
        self.built.append(verification)
        return StateWrite(self.key, text(verification), 300)


def text(v: Verification) -> str:
    return f"{v.subject}|{v.purpose}|{v.factor}|{v.verified_at!r}"


def with_phone(gate, subject="alice"):
    gate.credentials.add_phone(subject, PHONE)


def sms(gate, outbox, purpose="login", **start):
    challenge = gate.start("alice", "sms", purpose=purpose, **start)
    return challenge, outbox.last_code_for(PHONE)


def folds(gate) -> bool:
    return folds_into(gate._target.store)


# -- approvals ------------------------------------------------------------------------------------


def test_a_right_app_code_writes_the_state_of_its_verification(gate, clock):
    totp = enrolled(gate, clock)
    writes = Writes()
    verification = gate.verify("alice", "totp", totp.at(clock()), purpose="login", then_put=writes)
    assert verification.verified_at == clock()  # the time the check decided at
    assert gate.store.get_state(STATE) == text(verification)
    assert len(writes.built) == 1  # built once: folded, or written after


def test_a_right_sms_code_writes_the_state_of_its_verification(gate, outbox, clock):
    with_phone(gate)
    context = {"amount": "10 EUR"}
    challenge, code = sms(gate, outbox, "transaction", context=context)
    writes = Writes()
    verification = gate.verify(
        "alice",
        "sms",
        code,
        purpose="transaction",
        challenge_id=challenge.id,
        context=context,
        then_put=writes,
    )
    assert (verification.factor, verification.purpose) == ("sms", "transaction")
    assert verification.verified_at == clock()
    assert gate.store.get_state(STATE) == text(verification)
    assert len(writes.built) == 1


def test_the_stores_that_fold_are_the_memory_store_and_standalone_redis(gate, store_factory):
    cluster = getattr(store_factory, "cluster", False)
    assert folds(gate) is not cluster


def test_without_then_put_nothing_is_written(gate, clock):
    totp = enrolled(gate, clock)
    gate.verify("alice", "totp", totp.at(clock()), purpose="login")
    assert gate.store.get_state(STATE) is None


# -- refusals write nothing -----------------------------------------------------------------------


def test_a_wrong_or_replayed_app_code_writes_nothing(gate, clock):
    totp = enrolled(gate, clock)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None
    code = totp.at(clock())
    gate.verify("alice", "totp", code, purpose="login", then_put=Writes("s:first"))
    with pytest.raises(CodeReplayed):
        gate.verify("alice", "totp", code, purpose="action", then_put=Writes())
    assert gate.store.get_state(STATE) is None


def test_a_locked_subject_writes_nothing_even_with_a_right_code(make_gate, clock):
    gate = make_gate(Settings(secret_keys=(KEY,), lockout_after=2))
    totp = enrolled(gate, clock)
    for _ in range(2):
        with pytest.raises((InvalidCode, LockedOut)):
            gate.verify("alice", "totp", "000000", purpose="login")
    with pytest.raises(LockedOut):
        gate.verify("alice", "totp", totp.at(clock()), purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None


def test_sms_refusals_write_nothing(gate, outbox, clock):
    with_phone(gate)
    challenge, code = sms(gate, outbox, "action", context={"to": "A"})
    cases = [
        (InvalidCode, {"code": "000000", "purpose": "action", "context": {"to": "A"}}),
        (ContextMismatch, {"code": code, "purpose": "action", "context": {"to": "B"}}),
        (ChallengeExpired, {"code": code, "purpose": "login", "context": {"to": "A"}}),
    ]
    for error, call in cases:
        with pytest.raises(error):
            gate.verify(
                "alice",
                "sms",
                call["code"],
                purpose=call["purpose"],
                challenge_id=challenge.id,
                context=call["context"],
                then_put=Writes(),
            )
        assert gate.store.get_state(STATE) is None
    gate.verify(
        "alice",
        "sms",
        code,
        purpose="action",
        challenge_id=challenge.id,
        context={"to": "A"},
        then_put=Writes("s:first"),
    )
    with pytest.raises(ChallengeExpired):  # used up: a replay
        gate.verify(
            "alice",
            "sms",
            code,
            purpose="action",
            challenge_id=challenge.id,
            context={"to": "A"},
            then_put=Writes(),
        )
    assert gate.store.get_state(STATE) is None
    late, late_code = sms(gate, outbox)
    clock.advance(3600)
    with pytest.raises(ChallengeExpired):
        gate.verify(
            "alice", "sms", late_code, purpose="login", challenge_id=late.id, then_put=Writes()
        )
    assert gate.store.get_state(STATE) is None


def test_a_challenge_ended_by_wrong_codes_writes_nothing(make_gate, outbox):
    gate = make_gate(Settings(secret_keys=(KEY,), max_attempts=2, lockout_after=10))
    with_phone(gate)
    challenge, code = sms(gate, outbox)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "sms", "000000", purpose="login", challenge_id=challenge.id)
    with pytest.raises(MaxAttemptsReached):
        gate.verify("alice", "sms", "000001", purpose="login", challenge_id=challenge.id)
    with pytest.raises((MaxAttemptsReached, ChallengeExpired)):
        gate.verify(
            "alice", "sms", code, purpose="login", challenge_id=challenge.id, then_put=Writes()
        )
    assert gate.store.get_state(STATE) is None


def test_an_enrollment_refused_after_the_store_approved_writes_nothing(gate, outbox, clock):
    enrolled(gate, clock)  # a factor already: only a fresh session may add a number
    setup = gate.setup("alice", "sms", destination=PHONE)
    code = outbox.last_code_for(PHONE)
    with pytest.raises(FreshOtpRequired):
        gate.verify(
            "alice",
            "sms",
            code,
            purpose="enroll",
            challenge_id=setup.challenge.id,
            may_change_factors=False,
            then_put=Writes(),
        )
    assert gate.store.get_state(STATE) is None
    assert gate.factors("alice").masked_phones == ()


def test_an_enrollment_that_passes_writes_the_state(gate, outbox):
    setup = gate.setup("alice", "sms", destination=PHONE)
    code = outbox.last_code_for(PHONE)
    verification = gate.verify(
        "alice", "sms", code, purpose="enroll", challenge_id=setup.challenge.id, then_put=Writes()
    )
    assert gate.store.get_state(STATE) == text(verification)


class RacingCredentials(MemoryCredentials):
    """Another request uses the recovery code between the check and its use."""

    def use_recovery_code(self, subject, digests):
        super().use_recovery_code(subject, digests)
        return False


def test_a_recovery_code_that_loses_its_race_writes_nothing(make_gate):
    gate = make_gate(credentials=RacingCredentials())
    with_phone(gate)
    [code, *_] = gate.recovery.generate("alice")
    with pytest.raises(InvalidCode):
        gate.verify("alice", "recovery", code, purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None


def test_a_right_recovery_code_writes_the_state(gate):
    with_phone(gate)
    [code, *_] = gate.recovery.generate("alice")
    verification = gate.verify("alice", "recovery", code, purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) == text(verification)


class CarefulTotp(AuthenticatorFactor):
    """A site's app factor that refuses after the built-in check approved."""

    def check(self, gate, subject, code, request):
        super().check(gate, subject, code, request)
        raise InvalidCode()

    async def acheck(self, gate, subject, code, request):
        await super().acheck(gate, subject, code, request)
        raise InvalidCode()


def test_a_factor_that_refuses_after_a_built_in_check_approved_writes_nothing(make_gate, clock):
    factors = builtin_factors()
    factors.register(CarefulTotp(), replace=True)
    gate = make_gate(registry=factors)
    totp = enrolled(gate, clock)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", totp.at(clock()), purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None


# -- written after: plugin factors and stores -----------------------------------------------------


def test_a_plugin_factor_gets_its_state_written_after(make_gate):
    factors = builtin_factors()
    factors.register(PinFactor())
    gate = make_gate(registry=factors)
    verification = gate.verify("alice", "pin", "2468", purpose="action", then_put=Writes())
    assert gate.store.get_state(STATE) == text(verification)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "pin", "1111", purpose="login", then_put=Writes("s:other"))
    assert gate.store.get_state("s:other") is None


class OlderStore:
    """A store written before ``then_put``: its checks take no such argument."""

    nonblocking = True

    def __init__(self, clock) -> None:
        self._inner = MemoryStore(clock=clock)

    def check_code(self, challenge_id, code_digest, context_digest, now, max_attempts, lockout,
                   purpose=""):  # fmt: skip
        return self._inner.check_code(
            challenge_id, code_digest, context_digest, now, max_attempts, lockout, purpose
        )

    def settle_attempt(self, subject_key, success, now, lockout, totp_step=None):
        return self._inner.settle_attempt(subject_key, success, now, lockout, totp_step)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.mark.parametrize("store_factory", ["memory_store"], indirect=True)
def test_a_store_that_cannot_fold_gets_the_state_written_after(make_gate, clock, outbox):
    gate = make_gate(store=OlderStore(clock))
    assert not folds(gate)
    totp = enrolled(gate, clock)
    verification = gate.verify(
        "alice", "totp", totp.at(clock()), purpose="login", then_put=Writes()
    )
    assert gate.store.get_state(STATE) == text(verification)
    with_phone(gate)
    challenge, code = sms(gate, outbox)
    with pytest.raises(InvalidCode):
        gate.verify(
            "alice", "sms", "000000", purpose="login", challenge_id=challenge.id,
            then_put=Writes("s:other"),
        )  # fmt: skip
    assert gate.store.get_state("s:other") is None
    verification = gate.verify(
        "alice", "sms", code, purpose="login", challenge_id=challenge.id, then_put=Writes("s:sms")
    )
    assert gate.store.get_state("s:sms") == text(verification)


def test_a_code_from_an_address_checked_as_sms_is_recorded_as_email(make_gate, mail):  # noqa: F811
    """The write is built for the factor asked ("sms"); the approval names "email": the
    right state is written after the folded one, never left wrong."""
    gate = make_gate(email_sender=smtp_sender(make_gate.flavour, mail))
    with_phone(gate)
    enroll(gate, mail)
    challenge = gate.start("alice", "email", purpose="login")
    writes = Writes()
    verification = gate.verify(
        "alice",
        "sms",
        mail.last_code_for(NORMAL),
        purpose="login",
        challenge_id=challenge.id,
        then_put=writes,
    )
    assert verification.factor == "email"
    assert gate.store.get_state(STATE) == text(verification)
    assert [v.factor for v in writes.built] == (["sms", "email"] if folds(gate) else ["email"])


def test_an_approval_unlike_the_prediction_is_written_as_it_is():
    from otpgate.core.state_write import Fold

    writes = Writes()
    predicted = Verification("alice", "login", "sms", 100.0)
    fold = Fold(object(), "alice", "login", "sms", writes)
    assert fold.left(predicted) == writes(predicted)  # nothing folded: written after
    fold.predicted, fold.write = predicted, writes(predicted)
    assert fold.left(predicted) == writes(predicted)  # taken, but the call did not approve
    fold.approved = True
    assert fold.left(dataclasses.replace(predicted, challenge_id="x.y")) is None
    other = dataclasses.replace(predicted, factor="email")
    assert fold.left(other) == StateWrite(STATE, text(other), 300)
