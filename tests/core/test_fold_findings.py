"""Findings of the fold review (they failed before the fixes): ``verify(then_put=...)`` never
leaves a token's state written when ``verify`` refuses or raises, and never approves what the
verifier would refuse without ``then_put``."""

from __future__ import annotations

import asyncio

import pyotp
import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    FreshOtpRequired,
    InvalidCode,
    MemoryCredentials,
    MemoryStore,
    OutboxSender,
    Settings,
    StorageUnavailable,
    Verifier,
)
from otpgate.core.adapters import AwaitableFacade
from otpgate.core.policy import Result
from tests.conftest import KEY, PHONE, FakeClock
from tests.core.test_state_write import STATE, Writes


def _settings() -> Settings:
    return Settings(secret_keys=(KEY,))


# -- F1: a Verifier subclass that refuses after super().check() ----------------------------------


class PolicyVerifier(Verifier):
    """An application's verifier adding its own rule after the built-in check approved (e.g.
    "no SMS for admins", "no sign-in from a blocked tenant")."""

    def check(self, *args, **kwargs):
        super().check(*args, **kwargs)
        raise FreshOtpRequired(max_age=300)  # the application refuses this approval

    def check_totp(self, *args, **kwargs):
        super().check_totp(*args, **kwargs)
        raise FreshOtpRequired(max_age=300)


def test_F1_sms_refused_by_a_verifier_subclass_after_the_store_approved_writes_nothing():
    clock, outbox = FakeClock(), OutboxSender()
    gate = PolicyVerifier(_settings(), store=MemoryStore(clock), clock=clock, sender=outbox)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    with pytest.raises(FreshOtpRequired):
        gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=Writes(),
        )  # fmt: skip
    assert gate.store.get_state(STATE) is None  # the refused verify did not mark it


def test_F1_totp_refused_by_a_verifier_subclass_after_the_store_approved_writes_nothing():
    clock = FakeClock()
    gate = PolicyVerifier(_settings(), store=MemoryStore(clock), clock=clock)
    app = pyotp.TOTP(gate.totp.enroll("alice").secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    with pytest.raises(FreshOtpRequired):
        gate.verify("alice", "totp", app.at(clock()), purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None


class AsyncPolicyVerifier(AsyncVerifier):
    async def check(self, *args, **kwargs):
        await super().check(*args, **kwargs)
        raise FreshOtpRequired(max_age=300)


def test_F1_async_sms_refused_by_a_verifier_subclass_writes_nothing():
    clock, outbox = FakeClock(), OutboxSender()
    store = MemoryStore(clock)
    gate = AsyncPolicyVerifier(_settings(), store=store, clock=clock, sender=outbox)

    async def main():
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "sms", purpose="login")
        with pytest.raises(FreshOtpRequired):
            await gate.verify(
                "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
                challenge_id=challenge.id, then_put=Writes(),
            )  # fmt: skip

    asyncio.run(main())
    assert store.get_state(STATE) is None


# -- F2: the check decides at the time verify began, before the credential reads ---------------


class SlowCredentials(MemoryCredentials):
    """A credentials repository whose reads take ``delay`` seconds (a slow database)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock, self.delay = clock, 0.0

    def phones(self, subject):
        self.clock.advance(self.delay)
        return super().phones(subject)

    def get_totp(self, subject):
        self.clock.advance(self.delay)
        return super().get_totp(subject)


@pytest.mark.parametrize("then_put", [None, Writes()], ids=["plain", "then_put"])
def test_F2_a_challenge_that_expired_during_the_reads_is_refused(then_put):
    clock, outbox = FakeClock(), OutboxSender()
    credentials = SlowCredentials(clock)
    gate = Verifier(
        _settings(), store=MemoryStore(clock), clock=clock, sender=outbox, credentials=credentials
    )
    credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    clock.advance(299)  # lifetime 300 s: 1 s left when verify begins
    credentials.delay = 5  # the reads take 5 s: the challenge has expired when it is checked
    with pytest.raises(ChallengeExpired):  # checked when the store call is made
        gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=then_put,
        )  # fmt: skip


@pytest.mark.parametrize("then_put", [None, Writes()], ids=["plain", "then_put"])
def test_F2_an_app_code_that_went_stale_during_the_reads_is_refused(then_put):
    clock = FakeClock()
    credentials = SlowCredentials(clock)
    gate = Verifier(_settings(), store=MemoryStore(clock), clock=clock, credentials=credentials)
    app = pyotp.TOTP(gate.totp.enroll("alice").secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    code = app.at(clock())
    credentials.delay = 600  # a read (or a paused worker) of 10 minutes
    with pytest.raises(InvalidCode):  # the code is checked at the time of the check
        gate.verify("alice", "totp", code, purpose="login", then_put=then_put)


# -- F3: the reply of an approving check is lost: verify raises, the token passed ---------------


class LostReply(MemoryStore):
    """The check ran (and approved) but its reply never arrived: a socket timeout after the
    script ran, a connection reset, a cancelled await (``asyncio.wait_for``)."""

    def check_code(self, *args, **kwargs):
        outcome = super().check_code(*args, **kwargs)
        assert outcome.result is Result.APPROVED
        raise StorageUnavailable()


def test_F3_a_verify_that_raises_after_the_script_approved_wrote_nothing():
    clock, outbox = FakeClock(), OutboxSender()
    store = LostReply(clock)
    gate = Verifier(_settings(), store=store, clock=clock, sender=outbox)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    with pytest.raises(StorageUnavailable):
        gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=Writes(),
        )  # fmt: skip
    # the docstring: "when it raises, it was not [written]"
    assert store.get_state(STATE) is None


# -- F5: an unclaimed fold outlives its verify in a task spawned during it -----------------------


def test_F5_a_task_spawned_during_a_refused_verify_cannot_mark_its_token():
    """The app key is resealed (a key rotation): the verify's own check does not take the
    write, so the fold stays unclaimed (trusted). A task spawned during the verify (an event
    listener handing the event to a task, as the Django integration's async dispatch does)
    copies the context, fold included; a check of the same subject it runs after the verify
    was REFUSED (here: an SMS check of another sign-in of alice's) takes the refused verify's
    write and marks token T passed."""
    clock = FakeClock()
    old = Settings(secret_keys=(KEY,))
    new = Settings(secret_keys=("new-key-0123456789abcdef0123456789", KEY))
    store, credentials = MemoryStore(clock), MemoryCredentials()

    async def main():
        first = AsyncVerifier(old, store=store, clock=clock, credentials=credentials)
        app = pyotp.TOTP((await first.totp.enroll("alice")).secret)
        await first.totp.confirm("alice", app.at(clock()))
        clock.advance(60)
        outbox = OutboxSender()
        gate = AsyncVerifier(new, store=store, clock=clock, credentials=credentials, sender=outbox)
        credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "sms", purpose="login")
        spawned = []

        async def later():  # e.g. a signal receiver finishing another sign-in of alice's
            return await gate.check(
                challenge.id, outbox.last_code_for(PHONE), subject="alice", purpose="login"
            )

        gate.events.subscribe(lambda event: spawned or spawned.append(asyncio.create_task(later())))
        with pytest.raises(InvalidCode):
            await gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes())
        assert spawned
        assert (await spawned[0]).subject == "alice"  # that other check approved

    asyncio.run(main())
    assert store.get_state(STATE) is None  # the refused verify's token not passed


# -- F6: a built-in factor instance whose check is wrapped on the instance ------------------------


def test_F6_a_factor_instance_with_a_wrapped_check_that_refuses_writes_nothing():
    """``trust`` looks at ``type(factor).check``: a check wrapped on the instance (an
    instrumentation or policy wrapper registered as the factor) is trusted as final, so the
    write rides on the inner store call; the wrapper then refuses."""
    from otpgate.core.factors import builtin_factors
    from otpgate.core.factors.totp import AuthenticatorFactor

    factor = AuthenticatorFactor()
    inner = factor.check

    def audited_check(gate, subject, code, request):
        inner(gate, subject, code, request)
        raise FreshOtpRequired(max_age=300)  # the wrapper's policy refuses

    factor.check = audited_check
    factors = builtin_factors()
    factors.register(factor, replace=True)
    clock = FakeClock()
    gate = Verifier(_settings(), store=MemoryStore(clock), clock=clock, registry=factors)
    app = pyotp.TOTP(gate.totp.enroll("alice").secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    with pytest.raises(FreshOtpRequired):
        gate.verify("alice", "totp", app.at(clock()), purpose="login", then_put=Writes())
    assert gate.store.get_state(STATE) is None


# -- what the fixes keep --------------------------------------------------------------------------


def test_a_wrong_code_refused_by_the_store_keeps_the_state_the_token_had():
    """The burn is only for an approval (or no answer) followed by an error: a wrong code,
    refused by the store call that carried the write, leaves an earlier pass alone."""
    clock, outbox = FakeClock(), OutboxSender()
    gate = Verifier(_settings(), store=MemoryStore(clock), clock=clock, sender=outbox)
    gate.credentials.add_phone("alice", PHONE)
    gate.store.put_state(STATE, "passed-before", 60)
    challenge = gate.start("alice", "sms", purpose="login")
    with pytest.raises(InvalidCode):
        gate.verify(
            "alice", "sms", "000000", purpose="login", challenge_id=challenge.id, then_put=Writes()
        )
    assert gate.store.get_state(STATE) == "passed-before"


class CancelledAfterApproval(MemoryStore):
    """The check approved, then the awaiting task was cancelled (``asyncio.wait_for``)."""

    def check_code(self, *args, **kwargs):
        super().check_code(*args, **kwargs)
        raise asyncio.CancelledError()


def test_a_verify_cancelled_after_the_store_approved_wrote_nothing():
    clock, outbox = FakeClock(), OutboxSender()
    store = CancelledAfterApproval(clock)
    gate = AsyncVerifier(_settings(), store=store, clock=clock, sender=outbox)

    async def main():
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "sms", purpose="login")
        with pytest.raises(asyncio.CancelledError):
            await gate.verify(
                "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
                challenge_id=challenge.id, then_put=Writes(),
            )  # fmt: skip

    asyncio.run(main())
    assert store.get_state(STATE) is None


class LostReplyAndDown(LostReply):
    """The reply is lost, and the store is gone before the state can be forgotten."""

    def put_state(self, key, value, ttl):
        if value == "":
            raise StorageUnavailable()
        super().put_state(key, value, ttl)


def test_a_failed_burn_is_logged_and_the_verify_raises_its_own_error(caplog):
    clock, outbox = FakeClock(), OutboxSender()
    store = LostReplyAndDown(clock)
    gate = Verifier(_settings(), store=store, clock=clock, sender=outbox)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    code = outbox.last_code_for(PHONE)
    with pytest.raises(StorageUnavailable) as raised, caplog.at_level("ERROR", "otpgate"):
        gate.verify(
            "alice", "sms", code, purpose="login", challenge_id=challenge.id, then_put=Writes()
        )
    assert raised.value.__context__ is None  # the check's error, not the burn's
    assert "could not forget a state" in caplog.text
    assert code not in caplog.text and STATE not in caplog.text


class InFlightStore(AwaitableFacade):
    """An asynchronous store whose check is in flight over one turn of the event loop."""

    async def check_code(self, *args, **kwargs):
        await asyncio.sleep(0)  # the call is sent; its answer comes at the next turn
        return self._target.check_code(*args, **kwargs)


class FailingRotation(AwaitableFacade):
    """Credentials whose write of a resealed app key calls ``hook`` (a change listener that
    hands work to a task), then fails after a turn of the loop."""

    hook = None

    async def set_totp(self, subject, credential):
        self.hook()
        await asyncio.sleep(0)
        raise StorageUnavailable()


def test_a_check_of_a_task_spawned_while_the_verify_runs_cannot_take_its_write():
    """The verify's own check does not fold (the app key is resealed), approves, and writes
    the resealed key, which fails: the verify raises. A task spawned during the verify
    checks an SMS code of alice's meanwhile (spawned by a listener of the credential write);
    its store call, still in flight when the verify forgets the state, must not carry the
    verify's write."""
    clock, outbox = FakeClock(), OutboxSender()
    store, credentials = MemoryStore(clock), MemoryCredentials()
    first = Verifier(_settings(), store=store, clock=clock, credentials=credentials)
    app = pyotp.TOTP(first.totp.enroll("alice").secret)
    first.totp.confirm("alice", app.at(clock()))
    credentials.add_phone("alice", PHONE)
    clock.advance(60)
    rotated = Settings(secret_keys=("new-key-0123456789abcdef0123456789", KEY))
    rotation = FailingRotation(credentials)
    gate = AsyncVerifier(
        rotated, store=InFlightStore(store), clock=clock, credentials=rotation, sender=outbox
    )

    async def main():
        challenge = await gate.start("alice", "sms", purpose="login")
        spawned = []

        async def later():
            return await gate.check(
                challenge.id, outbox.last_code_for(PHONE), subject="alice", purpose="login"
            )

        rotation.hook = lambda: spawned.append(asyncio.create_task(later()))
        with pytest.raises(StorageUnavailable):
            await gate.verify("alice", "totp", app.at(clock()), purpose="login", then_put=Writes())
        assert spawned
        assert (await spawned[0]).subject == "alice"  # that other check approved

    asyncio.run(main())
    assert store.get_state(STATE) is None
