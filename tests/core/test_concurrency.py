"""Two concurrent checks of one code never both succeed."""

from __future__ import annotations

import asyncio
import threading

from otpgate import AsyncVerifier, MemoryStore, OtpgateError, OutboxSender, Settings, Verifier
from tests.conftest import KEY, PHONE


def race(calls):
    """Run every call at once from its own thread; return how many returned normally."""
    barrier = threading.Barrier(len(calls))
    wins = []

    def run(call):
        barrier.wait()
        try:
            call()
        except OtpgateError:
            return
        wins.append(1)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins)


def test_fifty_threads_one_sms_code_one_approval():
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=(KEY,)), store=MemoryStore(), sender=outbox)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    assert race([lambda: gate.check(challenge.id, code)] * 50) == 1


def test_fifty_threads_one_recovery_code_one_approval():
    gate = Verifier(Settings(secret_keys=(KEY,)), sender=OutboxSender())
    code = gate.recovery.generate("alice")[0]
    assert race([lambda: gate.check_recovery("alice", code)] * 50) == 1
    assert gate.recovery.remaining("alice") == 9


def test_fifty_tasks_one_sms_code_one_approval():
    async def main():
        outbox = OutboxSender()
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), sender=outbox)
        challenge = await gate.start_sms("alice", PHONE, purpose="enroll")
        code = outbox.last_code_for(PHONE)
        results = await asyncio.gather(
            *(gate.check(challenge.id, code) for _ in range(50)), return_exceptions=True
        )
        return [r for r in results if not isinstance(r, OtpgateError)]

    assert len(asyncio.run(main())) == 1


def test_concurrent_wrong_guesses_never_exceed_the_attempt_limit():
    outbox = OutboxSender()
    gate = Verifier(
        Settings(secret_keys=(KEY,), lockout_after=100, hard_lock_after=100), sender=outbox
    )
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    guesses = [f"{n:06d}" for n in range(60) if f"{n:06d}" != code][:50]
    race([lambda g=g: gate.check(challenge.id, g) for g in guesses])
    record = gate.store.get_challenge(challenge.id)
    assert record.attempts == 5
    assert race([lambda: gate.check(challenge.id, code)]) == 0


def test_the_memory_store_forgets_finished_state():
    from tests.conftest import FakeClock

    clock = FakeClock()
    outbox = OutboxSender()
    store = MemoryStore(clock=clock)
    gate = Verifier(
        Settings(
            secret_keys=(KEY,),
            phone_budget_short="1000/15m",
            phone_budget_long="1000/1d",
            subject_budget="1000/1d",
        ),
        store=store,
        sender=outbox,
        clock=clock,
    )
    for n in range(300):  # sign-in codes: a number's enrollment budget allows only a few
        gate.credentials.add_phone(f"user{n}", PHONE)
        challenge = gate.start_sms(f"user{n}")
        gate.check(challenge.id, outbox.last_code_for(PHONE))
    assert len(store._challenges) == 300 and len(store._subjects) == 300
    clock.advance(2 * 86400)
    gate.credentials.add_phone("late", PHONE)
    for _ in range(300):
        gate.start_sms("late")
    assert len(store._challenges) <= 300
    assert gate.subject_key("user1") not in {r.id.split(".")[0] for r in store._challenges.values()}
    assert len(store._subjects) < 300
