"""Redis Cluster: a script call goes straight to its slot's master (``cluster_route.py``),
and a slot that moves between a start and its check (a reshard: ``MOVED``, or ``ASK`` while
it migrates) still approves exactly once, and only the right code. These tests move slots,
so they run on a cluster of their own, not the session's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ResponseError

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.core.errors import ChallengeExpired, InvalidCode, StorageUnavailable
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.codec import Codec
from otpgate.redis.records import as_text
from tests.conftest import KEY
from tests.redis.servers import Cluster, Process, free_port, redis_server

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def moving_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("moving"))
    try:
        yield cluster
    finally:
        cluster.stop()


def _node_id(node: Process) -> str:
    with node.client(decode_responses=True) as client:
        return str(client.execute_command("CLUSTER", "MYID"))


def _owner(cluster: Cluster, slot: int) -> Process:
    with cluster.nodes[0].client() as client:
        ranges = client.execute_command("CLUSTER", "SLOTS")
    port = next(master[1] for start, end, master, *_ in ranges if start <= slot <= end)
    return next(node for node in cluster.nodes if node.port == port)


def _migrate(cluster: Cluster, slot: int) -> tuple[Process, Process]:
    """Start moving ``slot`` to another master and move its keys (the slot stays
    MIGRATING / IMPORTING: its old master answers ASK for keys it no longer has)."""
    source = _owner(cluster, slot)
    target = next(node for node in cluster.nodes if node is not source)
    with target.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", _node_id(source))
    with source.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", _node_id(target))
        keys = client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        assert keys, "the challenge's slot holds its keys"
        client.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
    return source, target


def _finish(cluster: Cluster, slot: int, target: Process) -> None:
    """Give ``slot`` to ``target`` on every master (the end of a reshard: MOVED from now)."""
    owner = _node_id(target)
    for node in sorted(cluster.nodes, key=lambda n: n is not target):
        with node.client() as client:
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", owner)


def _slot_of(prefix: str, challenge_id: str) -> int:
    return key_slot(Codec(prefix).challenge_key(challenge_id).encode())


def _sync_gate(cluster: Cluster, prefix: str) -> tuple[Verifier, RedisStore, OutboxSender]:
    store = RedisStore.from_url(cluster.url, prefix=prefix, cluster=True)
    outbox = OutboxSender()
    return Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox), store, outbox


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


class Gate:
    """A ``Verifier`` or an ``AsyncVerifier`` (on its own loop) on a cluster, called alike."""

    def __init__(self, cluster: Cluster, prefix: str, mode: str, loop: asyncio.AbstractEventLoop):
        self.outbox = OutboxSender()
        self.loop = loop if mode == "async" else None
        settings = Settings(secret_keys=(KEY,))
        self.store: Any
        self.gate: Any
        if self.loop is not None:

            async def make() -> AsyncRedisStore:  # its client belongs to the loop
                return AsyncRedisStore.from_url(cluster.url, prefix=prefix, cluster=True)

            self.store = self.loop.run_until_complete(make())
            self.gate = AsyncVerifier(settings, store=self.store, sender=self.outbox)
        else:
            self.store = RedisStore.from_url(cluster.url, prefix=prefix, cluster=True)
            self.gate = Verifier(settings, store=self.store, sender=self.outbox)

    def _done(self, value: Any) -> Any:
        return value if self.loop is None else self.loop.run_until_complete(value)

    def start(self, subject: str, number: str) -> tuple[str, str]:
        """A started enrollment's challenge id and the code sent."""
        challenge = self._done(self.gate.start_sms(subject, number, purpose="enroll"))
        return challenge.id, self.outbox.last_code_for(number)

    def check(self, challenge_id: str, code: str) -> str:
        return str(self._done(self.gate.check(challenge_id, code)).subject)

    def master_port(self, slot: int) -> int:
        """The port of the master the store's slot table names for ``slot``."""
        return int(self.store.client.nodes_manager.slots_cache[slot][0].port)

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self.store.aclose())
        else:
            self.store.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_check_after_its_slot_moved_approves_once_and_the_right_code_only(
    moving_cluster: Cluster, prefix: str, mode: str, loop: asyncio.AbstractEventLoop
):
    gate = Gate(moving_cluster, prefix, mode, loop)
    challenge_id, code = gate.start(f"alice-{mode}", "+33612345671")
    slot = _slot_of(prefix, challenge_id)
    _, target = _migrate(moving_cluster, slot)
    _finish(moving_cluster, slot, target)
    # The store's slot table still names the old master: MOVED, then the cluster path.
    with pytest.raises(InvalidCode):
        gate.check(challenge_id, _wrong(code))
    assert gate.check(challenge_id, code) == f"alice-{mode}"
    with pytest.raises(ChallengeExpired):
        gate.check(challenge_id, code)
    assert gate.master_port(slot) == target.port  # the next call goes straight there
    gate.close()


def test_a_check_while_its_slot_migrates_follows_ask_and_approves_once(
    moving_cluster: Cluster, prefix: str
):
    gate, store, outbox = _sync_gate(moving_cluster, prefix)
    number = "+33612345672"
    challenge = gate.start_sms("bob", number, purpose="enroll")
    code = outbox.last_code_for(number)
    with pytest.raises(InvalidCode):  # the subject's failure count: both keys of a check
        gate.check(challenge.id, _wrong(code))
    slot = _slot_of(prefix, challenge.id)
    _, target = _migrate(moving_cluster, slot)
    try:
        # The old master answers ASK: the check runs on the importing one, once.
        with pytest.raises(InvalidCode):
            gate.check(challenge.id, _wrong(code))
        assert gate.check(challenge.id, code).subject == "bob"
        with pytest.raises(ChallengeExpired):
            gate.check(challenge.id, code)
    finally:
        _finish(moving_cluster, slot, target)
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, code)
    store.close()


def test_a_check_of_keys_split_by_a_migration_fails_closed(moving_cluster: Cluster, prefix: str):
    gate, store, outbox = _sync_gate(moving_cluster, prefix)
    number = "+33612345674"
    challenge = gate.start_sms("bea", number, purpose="enroll")
    code = outbox.last_code_for(number)
    slot = _slot_of(prefix, challenge.id)
    _, target = _migrate(moving_cluster, slot)
    try:
        # The subject has no failure count yet: the importing master has one of the
        # check's two keys and answers TRYAGAIN until the slot is its own. No approval.
        with pytest.raises(StorageUnavailable):
            gate.check(challenge.id, code)
    finally:
        _finish(moving_cluster, slot, target)
    assert gate.check(challenge.id, code).subject == "bea"
    with pytest.raises(ChallengeExpired):
        gate.check(challenge.id, code)
    store.close()


def test_checks_skip_the_cluster_clients_path_until_a_redirection(
    moving_cluster: Cluster, prefix: str, monkeypatch: pytest.MonkeyPatch
):
    gate, store, outbox = _sync_gate(moving_cluster, prefix)
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
    slot = _slot_of(prefix, challenge.id)
    _, target = _migrate(moving_cluster, slot)
    _finish(moving_cluster, slot, target)
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


def _wait(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _role(node: Process) -> str:
    with node.client() as client:
        return as_text(client.execute_command("ROLE")[0])


def _link_up(node: Process) -> bool:
    with node.client(decode_responses=True) as client:
        return client.info("replication").get("master_link_status") == "up"


def _add_replica(cluster: Cluster, master: Process, directory: Path) -> Process:
    replica = redis_server(
        directory,
        free_port(bus=True),
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
        name="replica",
    ).start()  # fmt: skip
    master_id = _node_id(master)
    with replica.client() as client:
        client.execute_command("CLUSTER", "MEET", "127.0.0.1", master.port)

        def replicating() -> bool:
            try:
                client.execute_command("CLUSTER", "REPLICATE", master_id)
            except ResponseError:  # it does not know the master yet
                return False
            return True

        _wait(replicating, "the replica to know its master")
    _wait(lambda: _link_up(replica), "the replica to sync")
    cluster.wait_ok()
    return replica


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failover_between_a_start_and_its_check_approves_once(
    tmp_path: Path, mode: str, loop: asyncio.AbstractEventLoop
):
    """A replica promoted by a manual failover (the old master answers MOVED), then the
    new master killed and the old one taking over (the connection refused)."""
    cluster = Cluster(tmp_path / "failover")
    replica: Process | None = None
    try:
        gate = Gate(cluster, "f:", mode, loop)
        # One subject, two challenges: one slot, whose master fails over twice.
        first, first_code = gate.start("gail", "+33612345700")
        second, second_code = gate.start("gail", "+33612345701")
        slot = _slot_of("f:", first)
        assert _slot_of("f:", second) == slot
        master = _owner(cluster, slot)
        replica = _add_replica(cluster, master, tmp_path / "replica")
        with replica.client() as client:
            client.execute_command("CLUSTER", "FAILOVER")  # waits for the replica to catch up
        _wait(lambda: _role(master) == "slave" and _link_up(master), "the manual failover")
        with pytest.raises(InvalidCode):
            gate.check(first, _wrong(first_code))
        assert gate.check(first, first_code) == "gail"
        assert gate.master_port(slot) == replica.port
        with pytest.raises(ChallengeExpired):
            gate.check(first, first_code)
        # The new master dies with every write copied; its replica (the old master) takes over.
        with replica.client() as client:
            assert client.execute_command("WAIT", 1, 5000) == 1
        replica.kill()
        with master.client() as client:
            client.execute_command("CLUSTER", "FAILOVER", "TAKEOVER")
        _wait(lambda: _role(master) == "master", "the takeover")
        assert gate.check(second, second_code) == "gail"  # refused, then handed on
        with pytest.raises(ChallengeExpired):
            gate.check(second, second_code)
        assert gate.master_port(slot) == master.port
        gate.close()
    finally:
        if replica is not None:
            replica.stop()
        cluster.stop()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_master_that_stops_answering_fails_closed_and_approves_at_most_once(
    tmp_path: Path, mode: str, loop: asyncio.AbstractEventLoop
):
    """A timeout is not retried (the script may have run): the check fails closed, and
    once the master answers again the code approves at most once."""
    cluster = Cluster(tmp_path / "paused")
    try:
        gate = Gate(cluster, "t:", mode, loop)
        challenge_id, code = gate.start("hank", "+33612345702")
        master = _owner(cluster, _slot_of("t:", challenge_id))
        master.pause()
        try:
            began = time.monotonic()
            with pytest.raises(StorageUnavailable):
                gate.check(challenge_id, code)
            # One socket timeout (0.5 s) and a slot table refresh, not the cluster
            # client's four timeouts with back-off in between (over 2 s).
            assert time.monotonic() - began < 1.8
        finally:
            master.resume()
        cluster.wait_ok()
        approvals = 0
        for _ in range(2):
            with contextlib.suppress(ChallengeExpired):  # had the timed-out check run
                approvals += gate.check(challenge_id, code) == "hank"
        assert approvals <= 1
        gate.close()
    finally:
        cluster.stop()
