"""Sentinel: the store follows the master the sentinels name, through a failover.

The failover test kills the session's master, so it comes last in this file; the tests
before it work on whichever master the sentinels report.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from otpgate import AsyncVerifier, OutboxSender, Settings, StorageUnavailable, Verifier
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, PHONE
from tests.redis.servers import Sentinel

pytestmark = pytest.mark.redis


def _gate(store: RedisStore) -> tuple[Verifier, OutboxSender]:
    outbox = OutboxSender()
    return Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox), outbox


def test_sentinel_url(redis_sentinel: Sentinel, prefix: str):
    store = RedisStore.from_url(redis_sentinel.url + "/0", prefix=prefix)
    gate, outbox = _gate(store)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    assert gate.check(challenge.id, outbox.last_code_for(PHONE)).subject == "alice"
    store.close()


def test_sentinel_list_and_service_name(redis_sentinel: Sentinel, prefix: str):
    async def main() -> str:
        store = AsyncRedisStore.from_sentinel(
            redis_sentinel.addresses, redis_sentinel.service, prefix=prefix
        )
        outbox = OutboxSender()
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
        try:
            challenge = await gate.start_sms("alice", PHONE, purpose="enroll")
            verification = await gate.check(challenge.id, outbox.last_code_for(PHONE))
        finally:
            await store.aclose()
        return verification.subject

    assert asyncio.run(main()) == "alice"


def test_the_master_dies_a_replica_takes_over_calls_succeed_again(
    redis_sentinel: Sentinel, prefix: str
):
    sentinels, service = redis_sentinel.addresses, redis_sentinel.service
    store = RedisStore.from_sentinel(sentinels, service, prefix=prefix)
    gate, outbox = _gate(store)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    with redis_sentinel.master.client() as master:
        assert master.execute_command("WAIT", 1, 5000) == 1  # the replica has the challenge
    assert redis_sentinel.master_port() == redis_sentinel.master.port

    redis_sentinel.master.kill()
    outages = 0
    deadline = time.monotonic() + 30
    while True:
        try:
            record = gate.store.get_challenge(challenge.id)
            break
        except StorageUnavailable:
            outages += 1
            assert time.monotonic() < deadline, "no failover within 30 s"
            time.sleep(0.1)
    assert outages >= 1  # the failover takes a moment, and fails closed meanwhile
    # The store asked whichever Sentinel knew the new master first; the one asked here may
    # learn it a moment later (the Sentinels pass the new configuration on).
    agreed_by = time.monotonic() + 10
    while redis_sentinel.master_port() != redis_sentinel.replica.port:
        assert time.monotonic() < agreed_by, "the Sentinels never named the promoted replica"
        time.sleep(0.05)
    assert record is not None

    # The promoted replica has the challenge, but no scripts yet: they load on first use.
    assert gate.check(challenge.id, code).subject == "alice"
    fresh = gate.start_sms("bob", PHONE, purpose="enroll")
    assert gate.check(fresh.id, outbox.last_code_for(PHONE)).subject == "bob"
    store.close()
