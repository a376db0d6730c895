"""Redis Cluster: every script touches one slot, subjects spread over the masters, and a
lost script cache (a node restarted or replaced) heals itself. The behaviour suite in
``tests/core`` runs on the cluster too (store kind ``redis_cluster_store``)."""

from __future__ import annotations

import asyncio

import pytest
from redis.cluster import ClusterPipeline, RedisCluster
from redis.crc import key_slot

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.core.challenge import ChallengeRecord, new_challenge_id
from otpgate.core.errors import SendLimitReached, StorageUnavailable
from otpgate.core.phone import parse_phone
from otpgate.core.policy import TAG_CHARS, Budget, Denial, LockoutPolicy
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.budgets import settle
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
    budgets = [Budget("phone", f"p:{n}:s", 5, 900) for n in "abcdefgh"]
    budgets.append(Budget("subject", f"s:{subject_key}", 10, 86400))
    spends = codec.spend_budgets(budgets, 0.0, per_slot=True)
    assert sum(len(call.keys) for call in spends) == len(budgets)
    assert len({call.args[1] for call in spends}) == 1  # one send member in every slot
    calls = [
        *spends,
        *(codec.release_budgets(call) for call in spends),
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
        keys = [key if isinstance(key, bytes) else key.encode() for key in call.keys]
        assert len({key_slot(key) for key in keys}) == 1, call.script.name
        assert all(key.startswith(b"app:") for key in keys)
    # Budgets of distinct digests spread over the slots; a subject's budget is in its slot.
    assert len(spends) >= 6
    create, unlock = calls[2 * len(spends)], calls[-1]
    assert key_slot(create.keys[0].encode()) == key_slot(unlock.keys[0].encode())
    assert key_slot(codec.budget_key(f"s:{subject_key}").encode()) == key_slot(
        unlock.keys[0].encode()
    )


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


def _budget_counts(
    store: RedisStore, subject: str, phone: str, ip: str, skip: str = ""
) -> dict[str, int]:
    """How many sends each budget of a start by ``subject`` holds (but ``skip``'s)."""
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    plan = gate._plan_start(
        subject, parse_phone(phone, gate.settings), "enroll", None, ip, None, None
    )
    codec = Codec(store.prefix)
    counts = {}
    for b in plan.budgets:
        if isinstance(b, Budget) and b.scope[0] != skip:
            members = store.client.zrange(codec.budget_key(b.key), 0, -1)
            # a number's budgets count the sends noted with its part in the subject's record
            counts[b.scope[0]] = sum(
                m.startswith(f"{b.part}.".encode()) or not b.part for m in members
            )
    return counts


def test_a_budget_refused_in_one_slot_gives_back_the_others(redis_cluster: Cluster, prefix: str):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=(KEY,), ip_budget="1/h"), store=store, sender=outbox)
    gate.start_sms("alice", "+33612345601", purpose="enroll", client_ip="192.0.2.9")
    with pytest.raises(SendLimitReached) as refused:
        gate.start_sms("bob", "+33612345602", purpose="enroll", client_ip="192.0.2.9")
    assert refused.value.scope == "ip"
    assert 3599 < refused.value.retry_after <= 3601  # alice's send counts from its next second
    # The phone, enrollment and subject budgets of bob's refused start (other slots,
    # spent in the same pipeline) were given back; alice's count her one send.
    assert _budget_counts(store, "bob", "+33612345602", "192.0.2.9") == {
        "p": 0, "s": 0, "e": 0, "i": 1
    }  # fmt: skip
    assert _budget_counts(store, "alice", "+33612345601", "192.0.2.9") == {
        "p": 1, "s": 1, "e": 1, "i": 1
    }  # fmt: skip
    store.close()


def test_async_budgets_spread_and_refuse_like_one_script(redis_cluster: Cluster, prefix: str):
    async def main() -> tuple[str, list[int]]:
        store = AsyncRedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
        gate = AsyncVerifier(
            Settings(secret_keys=(KEY,), subject_budget="2/d"),
            store=store,
            sender=OutboxSender(),
        )
        try:
            for n in range(2):
                await gate.start_sms("carol", f"+3361234560{n}", purpose="enroll")
            try:
                await gate.start_sms("carol", "+33612345609", purpose="enroll")
            except SendLimitReached as error:
                scope = error.scope
            codec = Codec(prefix)
            sizes = [
                await store.client.zcard(codec.budget_key(f"e:{key[:TAG_CHARS]}"))
                for key in (gate.keyring.digest("phone", f"+3361234560{n}") for n in (0, 1, 9))
            ]
        finally:
            await store.aclose()
        return scope, sizes

    assert asyncio.run(main()) == ("subject", [1, 1, 0])


def test_a_budget_failing_in_one_slot_fails_closed_and_gives_back_the_others(
    redis_cluster: Cluster, prefix: str, caplog: pytest.LogCaptureFixture
):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
    ip_tag = gate.keyring.digest("ip", "192.0.2.10")[:TAG_CHARS]
    ip_key = Codec(prefix).budget_key(f"i:{ip_tag}")
    store.client.set(ip_key, "not a budget", ex=60)  # its script fails on that master
    with pytest.raises(StorageUnavailable):
        gate.start_sms("dave", "+33612345603", purpose="enroll", client_ip="192.0.2.10")
    assert outbox.messages == []
    counts = _budget_counts(store, "dave", "+33612345603", "192.0.2.10", skip="i")
    assert counts == {"p": 0, "s": 0, "e": 0}
    # Its own release failed too (the same wrong key): logged, without a key or a number.
    assert "1 budget release(s) failed (ResponseError)" in caplog.text
    assert "dave" not in caplog.text and ip_key not in caplog.text
    store.client.delete(ip_key)
    store.close()


def test_settle_reports_the_worst_denial_and_what_to_give_back():
    codec = Codec("app:")
    calls = codec.spend_budgets(
        [Budget("phone", f"p:{n}:s", 5, 900) for n in "abcd"], 0.0, per_slot=True
    )
    assert len(calls) == 4  # four tags, four slots
    failure = ConnectionError("lost")
    replies = [None, [b"phone", b"30"], [b"ip", b"90.5"], failure]
    denial, spent, first_failure = settle(calls, replies)
    assert denial == Denial("ip", 90.5)
    assert spent == [0, 3]  # the one that spent, and the one that may have
    assert first_failure is failure


def _scripts_run(cluster: Cluster) -> int:
    total = 0
    for node in cluster.nodes:
        with node.client(decode_responses=True) as client:
            total += client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    return total


def test_a_start_on_a_cluster_is_one_pipeline_then_one_script(
    redis_cluster: Cluster, prefix: str, monkeypatch: pytest.MonkeyPatch
):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    store.load_scripts()
    plan = gate._plan_start(
        "erin", parse_phone(PHONE, gate.settings), "enroll", None, "192.0.2.11", None, None
    )
    slots = len(Codec(prefix).spend_budgets(plan.budgets, 0.0, per_slot=True))
    pipelines = []
    execute = ClusterPipeline.execute

    def counted(pipe: ClusterPipeline, *args: object, **kwargs: object) -> object:
        pipelines.append(pipe)
        return execute(pipe, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ClusterPipeline, "execute", counted)
    before = _scripts_run(redis_cluster)
    gate.start_sms("erin", PHONE, purpose="enroll", client_ip="192.0.2.11")
    assert len(pipelines) == 1  # every slot's budgets in one go
    assert _scripts_run(redis_cluster) - before == slots + 1  # and the challenge's script
    # phone (both windows), subject, enrollment, client network; the pumping guard's
    # prefix and country ranges
    assert slots == 5
    store.close()
