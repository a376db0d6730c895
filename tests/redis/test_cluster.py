"""Redis Cluster: every script touches one slot, subjects spread over the masters, and a
lost script cache (a node restarted or replaced) heals itself. The behaviour suite in
``tests/core`` runs on the cluster too (store kind ``redis_cluster_store``)."""

from __future__ import annotations

import asyncio

import pytest
from redis.cluster import RedisCluster
from redis.crc import key_slot

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.core.challenge import ChallengeRecord, new_challenge_id
from otpgate.core.policy import Budget, LockoutPolicy
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.codec import Codec
from tests.conftest import KEY, PHONE
from tests.redis.servers import Cluster

pytestmark = pytest.mark.redis

LOCKOUT = LockoutPolicy(after=5, base=60, maximum=900, hard_after=50, memory=86400)


def test_every_script_call_touches_one_slot():
    codec = Codec("app:")
    subject_key = "Q" * 22
    challenge_id = new_challenge_id(subject_key)
    record = ChallengeRecord(
        id=challenge_id,
        purpose="login",
        masked_phone="+33 ••• •• 5678",
        sealed_subject="u",
        sealed_delivery="p",
        code_digest="d",
        created_at=0.0,
        expires_at=300.0,
        next_send_at=30.0,
    )
    budgets = [Budget("phone", f"p:{n}", 5, 900) for n in "abcdefgh"]
    calls = [
        codec.spend_budgets(budgets, 0.0),
        codec.create_challenge(record, subject_key, 0.0, LOCKOUT),
        codec.get_challenge(challenge_id),
        codec.reserve_send(challenge_id, 0.0, 30, 5),
        codec.mark_send_failed(challenge_id, 0.0),
        codec.check_code(challenge_id, "d", "", 0.0, 5, LOCKOUT),
        codec.settle_attempt(subject_key, True, 0.0, LOCKOUT, 7),
        codec.cancel(challenge_id, 0.0),
        codec.unlock(subject_key),
    ]
    for call in calls:
        assert len({key_slot(key.encode()) for key in call.keys}) == 1, call.script.name
        assert all(key.startswith("app:") for key in call.keys)
    # One subject's keys share a slot with each other, not with the budgets.
    assert key_slot(calls[1].keys[0].encode()) == key_slot(calls[8].keys[0].encode())


def test_subjects_spread_over_the_masters(redis_cluster: Cluster, prefix: str):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
    for n in range(24):
        number = f"+336123456{n:02d}"
        challenge = gate.start_sms(f"user{n}", number, purpose="enroll")
        gate.check(challenge.id, outbox.last_code_for(number))
    holding = 0
    for node in redis_cluster.nodes:
        with node.client() as client:
            holding += any(True for _ in client.scan_iter(f"{prefix}{{*}}:c:*"))
    assert holding >= 2
    store.close()


def test_a_lost_script_cache_heals_on_every_node(redis_cluster: Cluster, prefix: str):
    async def main() -> list[str]:
        store = AsyncRedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
        outbox = OutboxSender()
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
        subjects = []
        try:
            for n in range(6):
                number = f"+336123456{n:02d}"
                challenge = await gate.start_sms(f"user{n}", number, purpose="enroll")
                for node in redis_cluster.nodes:
                    with node.client() as client:
                        client.script_flush()
                verification = await gate.check(challenge.id, outbox.last_code_for(number))
                subjects.append(verification.subject)
        finally:
            await store.aclose()
        return subjects

    assert asyncio.run(main()) == [f"user{n}" for n in range(6)]


def test_a_cluster_client_passed_in(redis_cluster: Cluster, prefix: str):
    client = RedisCluster.from_url(redis_cluster.url)
    store = RedisStore(client, prefix=prefix)
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    assert gate.check(challenge.id, outbox.last_code_for(PHONE)).subject == "alice"
    store.close()  # a client passed in stays open: its owner closes it
    assert client.ping()
    client.close()
    client.disconnect_connection_pools()


def test_load_scripts_reaches_every_master(redis_cluster: Cluster, prefix: str):
    for node in redis_cluster.nodes:
        with node.client() as client:
            client.script_flush()
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    store.load_scripts()
    shas = [script.sha for script in Codec(prefix).scripts.values()]
    for node in redis_cluster.nodes:
        with node.client() as client:
            assert all(client.script_exists(*shas))
    store.close()
