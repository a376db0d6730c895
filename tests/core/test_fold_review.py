"""Adversarial review of ``verify(then_put=...)`` (the token-state write riding on the check):
a token is marked "passed" only for a check the verifier finally approves, for its own subject,
with the verification's own factor and time. Each test is an attack that holds."""

from __future__ import annotations

import asyncio

import pyotp
import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    InvalidCode,
    MemoryCredentials,
    MemoryStore,
    Settings,
    Verifier,
)
from otpgate.core.state_write import _FOLD
from tests.conftest import KEY, FakeClock
from tests.core.test_factors import enrolled
from tests.core.test_state_write import STATE, Writes, sms, text, with_phone

OTHER = "+33698765432"


def test_a_challenge_of_another_subject_writes_nothing(gate, outbox):
    gate.credentials.add_phone("bob", OTHER)
    challenge = gate.start("bob", "sms", purpose="login")
    code = outbox.last_code_for(OTHER)
    with_phone(gate)  # alice may check an SMS code
    with pytest.raises(ChallengeExpired):
        gate.verify(
            "alice", "sms", code, purpose="login", challenge_id=challenge.id, then_put=Writes()
        )
    assert gate.store.get_state(STATE) is None
    # bob's own check still passes, and records bob (the challenge was not spent)
    verification = gate.verify(
        "bob", "sms", code, purpose="login", challenge_id=challenge.id, then_put=Writes()
    )
    assert verification.subject == "bob"
    assert gate.store.get_state(STATE) == text(verification)


def test_a_challenge_checked_twice_writes_once(gate, outbox):
    with_phone(gate)
    challenge, code = sms(gate, outbox, "action")
    gate.verify("alice", "sms", code, purpose="action", challenge_id=challenge.id)
    with pytest.raises(ChallengeExpired):  # already approved: no second approval, no write
        gate.verify(
            "alice", "sms", code, purpose="action", challenge_id=challenge.id, then_put=Writes()
        )
    assert gate.store.get_state(STATE) is None


def test_an_app_key_resealed_during_the_check_still_writes_only_on_approval(make_gate, clock):
    old = make_gate()
    totp = enrolled(old, clock)
    # a new key in front: the app credential, sealed under the old one, is resealed by a check
    gate = make_gate(
        Settings(secret_keys=("new-key-0123456789abcdef0123456789", KEY)),
        store=old.store._target,
        credentials=old.credentials._target,
    )
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None
    verification = gate.verify(
        "alice", "totp", totp.at(clock()), purpose="login", then_put=Writes()
    )
    assert gate.store.get_state(STATE) == text(verification)
    assert verification.verified_at == clock()


def test_the_fold_never_outlives_its_verify(gate, clock):
    totp = enrolled(gate, clock)
    gate.verify("alice", "totp", totp.at(clock()), purpose="login", then_put=Writes())
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes("s:x"))
    assert _FOLD.get() is None
    clock.advance(30)
    gate.check_totp("alice", totp.at(clock()))  # a plain check after: writes no token's state
    assert gate.store.get_state("s:x") is None


async def gathered(gate, clock, wrong="bob"):
    """alice and bob verify at once in one loop (``wrong``'s code is wrong); the results."""
    apps = {}
    for who in ("alice", "bob"):
        enrollment = await gate.totp.enroll(who)
        apps[who] = pyotp.TOTP(enrollment.secret)
        await gate.totp.confirm(who, apps[who].at(clock()))
    clock.advance(60)
    calls = [
        gate.verify(
            who,
            "totp",
            "000000" if who == wrong else apps[who].at(clock()),
            purpose="login",
            then_put=Writes(f"s:{who}"),
        )
        for who in ("alice", "bob")
    ]
    return await asyncio.gather(*calls, return_exceptions=True)


def test_concurrent_verifies_in_one_loop_write_only_their_own_tokens():
    """asyncio.gather: each task's fold is its own (a ContextVar per task)."""
    clock = FakeClock()
    store = MemoryStore(clock)
    gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, clock=clock)
    alice, bob = asyncio.run(gathered(gate, clock))
    assert isinstance(bob, InvalidCode)
    assert store.get_state("s:bob") is None
    assert alice.subject == "alice" and store.get_state("s:alice") == text(alice)


def test_a_then_put_is_not_claimed_by_another_gate(clock):
    """A verify of one gate whose reads run another gate's check (same subject): the other
    gate's store call does not take the write."""
    settings = Settings(secret_keys=(KEY,))
    gate = Verifier(settings, store=MemoryStore(clock), clock=clock)
    other = Verifier(settings, store=MemoryStore(clock), clock=clock)
    apps = {}
    for g in (gate, other):
        apps[g] = pyotp.TOTP(g.totp.enroll("alice").secret)
        g.totp.confirm("alice", apps[g].at(clock()))
    clock.advance(60)
    nested = []

    class Nesting(MemoryCredentials):
        def get_totp(self, subject):
            if not nested:
                nested.append(other.check_totp("alice", apps[other].at(clock())))
            return super().get_totp(subject)

    credentials = Nesting()
    credentials.__dict__.update(gate.credentials.__dict__)
    gate.credentials = credentials
    verification = gate.verify(
        "alice", "totp", apps[gate].at(clock()), purpose="login", then_put=Writes()
    )
    assert nested  # the other gate's check ran inside this verify
    assert other.store.get_state(STATE) is None
    assert gate.store.get_state(STATE) == text(verification)


def test_a_check_nested_in_a_refused_verify_does_not_take_its_write():
    """The outer verify (token T, a WRONG code) is refused; a check of the same subject run
    inside it (here from the credentials read: a repository, a hook, a nested verify without
    then_put, which offers no fold of its own and so sees the outer one) approves. T is not
    marked passed: the fold is trusted (claimable) only once the factor is chosen."""
    clock = FakeClock()
    nested = []

    class Nesting(MemoryCredentials):
        def get_totp(self, subject):
            if gate_box and not nested:
                nested.append("running")
                nested.append(gate_box[0].check_totp("alice", app_box[0].at(clock())))
            return super().get_totp(subject)

    gate_box, app_box = [], []
    gate = Verifier(
        Settings(secret_keys=(KEY,)), store=MemoryStore(clock), clock=clock, credentials=Nesting()
    )
    app_box.append(pyotp.TOTP(gate.totp.enroll("alice").secret))
    gate.totp.confirm("alice", app_box[0].at(clock()))
    clock.advance(60)
    gate_box.append(gate)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes())
    assert nested[1].subject == "alice"  # the nested check approved
    assert gate.store.get_state(STATE) is None
