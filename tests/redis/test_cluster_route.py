"""Redis Cluster: a script call goes straight to its slot's master (``cluster_route.py``),
and a slot that moves between a start and its check (a reshard: ``MOVED``, or ``ASK`` while
it migrates) still approves exactly once, and only the right code. These tests move slots,
so they run on a cluster of their own, not the session's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from otpgate import AsyncVerifier, OutboxSender, Settings
from otpgate.core.errors import ChallengeExpired, InvalidCode, StorageUnavailable
from otpgate.redis import AsyncRedisStore
from tests.conftest import KEY
from tests.redis.cluster_ops import (
    Gate,
    finish,
    migrate,
    slot_of,
    sync_gate,
    wrong,
)
from tests.redis.servers import Cluster

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def moving_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("moving"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_check_after_its_slot_moved_approves_once_and_the_right_code_only(
    moving_cluster: Cluster, prefix: str, mode: str, loop: asyncio.AbstractEventLoop
):
    gate = Gate(moving_cluster, prefix, mode, loop)
    challenge_id, code = gate.start(f"alice-{mode}", "+33612345671")
    slot = slot_of(prefix, challenge_id)
    _, target = migrate(moving_cluster, slot)
    finish(moving_cluster, slot, target)
    # The store's slot table still names the old master: MOVED, then the cluster path.
    with pytest.raises(InvalidCode):
        gate.check(challenge_id, wrong(code))
    assert gate.check(challenge_id, code) == f"alice-{mode}"
    with pytest.raises(ChallengeExpired):
        gate.check(challenge_id, code)
    assert gate.master_port(slot) == target.port  # the next call goes straight there
    gate.close()


def test_a_check_while_its_slot_migrates_follows_ask_and_approves_once(
    moving_cluster: Cluster, prefix: str
):
    gate, store, outbox = sync_gate(moving_cluster, prefix)
    number = "+33612345672"
    challenge = gate.start_sms("bob", number, purpose="enroll")
    code = outbox.last_code_for(number)
    with pytest.raises(InvalidCode):  # the subject's failure count: both keys of a check
        gate.check(challenge.id, wrong(code))
    slot = slot_of(prefix, challenge.id)
    _, target = migrate(moving_cluster, slot)
    try:
        # The old master answers ASK: the check runs on the importing one, once.
        with pytest.raises(InvalidCode):
            gate.check(challenge.id, wrong(code))
        assert gate.check(challenge.id, code).subject == "bob"
        with pytest.raises(ChallengeExpired):
            gate.check(challenge.id, code)
    finally:
        finish(moving_cluster, slot, target)
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, code)
    store.close()


def test_a_check_of_keys_split_by_a_migration_fails_closed(moving_cluster: Cluster, prefix: str):
    gate, store, outbox = sync_gate(moving_cluster, prefix)
    number = "+33612345674"
    challenge = gate.start_sms("bea", number, purpose="enroll")
    code = outbox.last_code_for(number)
    slot = slot_of(prefix, challenge.id)
    _, target = migrate(moving_cluster, slot)
    try:
        # The subject has no failure count yet: the importing master has one of the
        # check's two keys and answers TRYAGAIN until the slot is its own. No approval.
        with pytest.raises(StorageUnavailable):
            gate.check(challenge.id, code)
    finally:
        finish(moving_cluster, slot, target)
    assert gate.check(challenge.id, code).subject == "bea"
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, code)
    store.close()


def test_checks_skip_the_cluster_clients_path_until_a_redirection(
    moving_cluster: Cluster, prefix: str, monkeypatch: pytest.MonkeyPatch
):
    gate, store, outbox = sync_gate(moving_cluster, prefix)
    started = []
    for n in range(6):
        number = f"+3361234568{n}"
        started.append((gate.start_sms(f"dave{n}", number, purpose="enroll"), number))
    through_cluster = []
    execute = RedisCluster.execute_command

    def counted(self: RedisCluster, *args: object, **kwargs: object) -> object:
        through_cluster.append(args[0])
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(RedisCluster, "execute_command", counted)
    for challenge, number in started[:3]:
        assert gate.check(challenge.id, outbox.last_code_for(number)).subject
    assert through_cluster == []  # one node, one attempt, no cluster machinery
    challenge, number = started[3]
    slot = slot_of(prefix, challenge.id)
    _, target = migrate(moving_cluster, slot)
    finish(moving_cluster, slot, target)
    assert gate.check(challenge.id, outbox.last_code_for(number)).subject == "dave3"
    assert through_cluster == ["EVALSHA"]  # MOVED: handed to the cluster client once
    for challenge, number in started[4:]:
        assert gate.check(challenge.id, outbox.last_code_for(number)).subject
    assert through_cluster == ["EVALSHA"]
    store.close()


def test_async_checks_skip_the_cluster_clients_path(
    moving_cluster: Cluster, prefix: str, monkeypatch: pytest.MonkeyPatch
):
    calls = []
    execute = AsyncRedisCluster.execute_command

    async def counted(self: AsyncRedisCluster, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return await execute(self, *args, **kwargs)

    async def main() -> list[str]:
        store = AsyncRedisStore.from_url(moving_cluster.url, prefix=prefix, cluster=True)
        outbox = OutboxSender()
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox)
        try:
            started = []
            for n in range(3):
                number = f"+3361234569{n}"
                started.append((await gate.start_sms(f"erin{n}", number, purpose="enroll"), number))
            monkeypatch.setattr(AsyncRedisCluster, "execute_command", counted)
            return [
                (await gate.check(challenge.id, outbox.last_code_for(number))).subject
                for challenge, number in started
            ]
        finally:
            await store.aclose()

    assert asyncio.run(main()) == ["erin0", "erin1", "erin2"]
    assert calls == []
