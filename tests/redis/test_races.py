"""Races across processes, as production runs them: several workers sharing one Redis."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from otpgate import AsyncVerifier, OtpgateError, OutboxSender, Settings
from otpgate.redis import AsyncRedisStore
from tests.conftest import KEY, PHONE
from tests.redis.workers import gate_for, run_processes

pytestmark = pytest.mark.redis


def test_8_processes_x_25_threads_one_code_exactly_one_approval(redis_server, prefix):
    gate = gate_for(redis_server.url, prefix)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = gate.sender.last_code_for(PHONE)
    argument = f"{challenge.id} {code}"
    outcomes = Counter(run_processes(redis_server.url, prefix, "check", [[argument] * 25] * 8))
    # One approval; the 199 others see a challenge that is no longer pending.
    assert outcomes == {"ok": 1, "expired": 199}
    gate.store.close()


def test_100_concurrent_starts_for_one_phone_exactly_the_phone_budget(redis_server, prefix):
    outcomes = Counter(run_processes(redis_server.url, prefix, "start", [[PHONE] * 25] * 4))
    assert outcomes == {"ok": 5, "send_limit_reached": 95}  # phone_budget_short = 5/15 min


def test_100_concurrent_async_starts_for_one_phone_exactly_the_phone_budget(redis_server, prefix):
    async def main():
        store = AsyncRedisStore.from_url(
            redis_server.url, prefix=prefix, socket_timeout=5, socket_connect_timeout=5
        )
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
        try:
            results = await asyncio.gather(
                *(gate.start_sms("alice", PHONE, purpose="enroll") for _ in range(100)),
                return_exceptions=True,
            )
        finally:
            await store.aclose()
        return Counter(r.code if isinstance(r, OtpgateError) else "ok" for r in results)

    assert asyncio.run(main()) == {"ok": 5, "send_limit_reached": 95}


def test_concurrent_wrong_guesses_never_exceed_the_attempt_limit(redis_server, prefix):
    no_lockout = {"lockout_after": 100, "hard_lock_after": 100}
    gate = gate_for(redis_server.url, prefix, **no_lockout)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = gate.sender.last_code_for(PHONE)
    guesses = [f"{n:06d}" for n in range(101) if f"{n:06d}" != code][:100]
    per_process = [[f"{challenge.id} {g}" for g in guesses[i::4]] for i in range(4)]
    outcomes = Counter(run_processes(redis_server.url, prefix, "check", per_process, no_lockout))
    # Exactly max_attempts (5) guesses were counted: 4 invalid, then the one that ended it;
    # the other 95 found it ended already.
    assert outcomes == {"invalid_code": 4, "max_attempts_reached": 96}
    record = gate.store.get_challenge(challenge.id)
    assert record.attempts == 5
    assert record.status == "max_attempts_reached"
    with pytest.raises(OtpgateError) as raised:  # even the right code
        gate.check(challenge.id, code)
    assert raised.value.code == "max_attempts_reached"
    gate.store.close()
