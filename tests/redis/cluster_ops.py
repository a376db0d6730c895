"""Moving slots, failing masters over, and a ``Verifier`` or ``AsyncVerifier`` called alike,
for the Cluster routing tests (``test_cluster_route.py``, ``test_cluster_failover.py``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot
from redis.exceptions import ResponseError

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.codec import Codec
from otpgate.redis.records import as_text
from tests.conftest import KEY
from tests.redis.servers import Cluster, Process, free_port, redis_server


def node_id(node: Process) -> str:
    with node.client(decode_responses=True) as client:
        return str(client.execute_command("CLUSTER", "MYID"))


def owner(cluster: Cluster, slot: int) -> Process:
    with cluster.nodes[0].client() as client:
        ranges = client.execute_command("CLUSTER", "SLOTS")
    port = next(master[1] for start, end, master, *_ in ranges if start <= slot <= end)
    return next(node for node in cluster.nodes if node.port == port)


def migrate(cluster: Cluster, slot: int) -> tuple[Process, Process]:
    """Start moving ``slot`` to another master and move its keys (the slot stays
    MIGRATING / IMPORTING: its old master answers ASK for keys it no longer has)."""
    source = owner(cluster, slot)
    target = next(node for node in cluster.nodes if node is not source)
    with target.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source))
    with source.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target))
        keys = client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        assert keys, "the challenge's slot holds its keys"
        client.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
    return source, target


def finish(cluster: Cluster, slot: int, target: Process) -> None:
    """Give ``slot`` to ``target`` on every master (the end of a reshard: MOVED from now)."""
    target_id = node_id(target)
    for node in sorted(cluster.nodes, key=lambda n: n is not target):
        with node.client() as client:
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)


def slot_of(prefix: str, challenge_id: str) -> int:
    return key_slot(Codec(prefix).challenge_key(challenge_id).encode())


def sync_gate(cluster: Cluster, prefix: str) -> tuple[Verifier, RedisStore, OutboxSender]:
    store = RedisStore.from_url(cluster.url, prefix=prefix, cluster=True)
    outbox = OutboxSender()
    return Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox), store, outbox


def wrong(code: str) -> str:
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


def wait(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def role(node: Process) -> str:
    with node.client() as client:
        return as_text(client.execute_command("ROLE")[0])


def link_up(node: Process) -> bool:
    with node.client(decode_responses=True) as client:
        return client.info("replication").get("master_link_status") == "up"


def add_replica(cluster: Cluster, master: Process, directory: Path) -> Process:
    replica = redis_server(
        directory,
        free_port(bus=True),
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
        name="replica",
    ).start()  # fmt: skip
    master_id = node_id(master)
    with replica.client() as client:
        client.execute_command("CLUSTER", "MEET", "127.0.0.1", master.port)

        def replicating() -> bool:
            try:
                client.execute_command("CLUSTER", "REPLICATE", master_id)
            except ResponseError:  # it does not know the master yet
                return False
            return True

        wait(replicating, "the replica to know its master")
    wait(lambda: link_up(replica), "the replica to sync")
    cluster.wait_ok()
    return replica
