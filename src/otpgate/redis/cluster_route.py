"""A script call on a Redis Cluster, sent straight to the master of its slot.

Every otpgate script call names keys of one hash tag (one slot; see ``codec.py``). redis-py's
``RedisCluster.execute_command`` finds the slot again for every command and runs its
policy, retry and redirection machinery around it (about a tenth of a check's client CPU
time, measured with ``bench/cluster.py``'s setup). Here
the slot comes from the first key, its master from the client's own slot table, and the
command goes through that master's own client (sync) or node (asyncio), one attempt.

Anything that says the table is out of date or the node is gone (``MOVED``, ``ASK``,
``TRYAGAIN``, ``CLUSTERDOWN``, an uncovered slot, a broken connection) hands the same command
to the cluster client's normal path, which follows the redirection, refreshes its slot
table and retries as it always did. Those replies come before a script runs; a broken
connection is retried once on a standalone server too (``connect.py``), and a check whose
reply was lost with its connection cannot approve on a second run (the first consumed the
challenge). A timeout is not
handed on, since the script may have run: it is raised (the store's ``StorageUnavailable``)
and the cluster client is told to refresh its table. A ``CROSSSLOT`` reply (keys of more
than one slot: a bug) is raised as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio.cluster
import redis.cluster
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: Replies and errors after which the cluster client's own path runs the command
#: (``MovedError`` is an ``AskError``; ``MasterDownError`` a ``ClusterDownError``).
HAND_ON: tuple[type[BaseException], ...] = (
    AskError,
    TryAgainError,
    ClusterDownError,
    SlotNotCoveredError,
    RedisConnectionError,
)

#: ``EVALSHA sha numkeys key ...``: where the first key is.
_FIRST_KEY = 3


def _slot(args: tuple[Any, ...]) -> int | None:
    """The slot of a script call's first key, or None if it names none."""
    if len(args) <= _FIRST_KEY or args[0] not in ("EVALSHA", "EVAL") or not args[2]:
        return None
    key = args[_FIRST_KEY]
    return key_slot(key.encode() if isinstance(key, str) else key)


class SlotRouter:
    """``execute_command`` for script calls on a ``redis.cluster.RedisCluster``."""

    __slots__ = ("cluster",)

    def __init__(self, cluster: redis.cluster.RedisCluster) -> None:
        self.cluster = cluster

    def execute_command(self, *args: Any) -> Any:
        """Run ``args`` on the master of its first key's slot (see the module)."""
        cluster: Any = self.cluster  # redis-py's cluster internals are untyped
        slot = _slot(args)
        nodes = None if slot is None else cluster.nodes_manager.slots_cache.get(slot)
        if not nodes:
            return cluster.execute_command(*args)
        node = nodes[0]
        client = node.redis_connection or cluster.get_redis_connection(node)
        try:
            return client.execute_command(*args)
        except HAND_ON:
            return cluster.execute_command(*args)
        except RedisTimeoutError:
            # The cluster client refreshes its table after a timeout too (then retries:
            # not here). ``initialize`` asks every known node, so a dead one costs its
            # connect timeout once more; the error still goes up.
            with contextlib.suppress(Exception):  # the timeout is the error to report
                cluster.nodes_manager.initialize()
            raise


class AsyncSlotRouter:
    """``execute_command`` for script calls on a ``redis.asyncio.cluster.RedisCluster``."""

    __slots__ = ("cluster",)

    def __init__(self, cluster: redis.asyncio.cluster.RedisCluster) -> None:
        self.cluster = cluster

    async def execute_command(self, *args: Any) -> Any:
        """Run ``args`` on the master of its first key's slot (see the module)."""
        cluster: Any = self.cluster
        slot = _slot(args)
        if slot is None or cluster._initialize:  # not set up yet, or asked to refresh
            return await cluster.execute_command(*args)
        nodes = cluster.nodes_manager.slots_cache.get(slot)
        if not nodes:
            return await cluster.execute_command(*args)
        try:
            return await nodes[0].execute_command(*args)
        except HAND_ON:
            return await cluster.execute_command(*args)
        except RedisTimeoutError:
            cluster._initialize = True  # its next command refreshes the table first
            raise


def sync_sender(client: object) -> Callable[..., Any]:
    """What a store calls to run a script: the router's on a cluster, else the client's."""
    if isinstance(client, redis.cluster.RedisCluster):
        return SlotRouter(client).execute_command
    method: Callable[..., Any] = client.execute_command  # type: ignore[attr-defined]
    return method


def async_sender(client: object) -> Callable[..., Awaitable[Any]]:
    """The asyncio twin of :func:`sync_sender`."""
    if isinstance(client, redis.asyncio.cluster.RedisCluster):
        return AsyncSlotRouter(client).execute_command
    method: Callable[..., Awaitable[Any]] = client.execute_command  # type: ignore[attr-defined]
    return method
