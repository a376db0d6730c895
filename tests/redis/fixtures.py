"""Session-wide Redis servers and the store factories the behaviour suite runs on.

``redis_store`` and ``redis_cluster_store`` are store kinds (see ``tests/stores.py``):
factories ``(flavour, clock, loop) -> store`` giving ``RedisStore`` ("sync") or
``AsyncRedisStore`` ("async"), with a fresh random key prefix per test. The servers start
once per session, on first use, and are killed at its end; before that, every key they hold
must have a TTL.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from otpgate.redis import AsyncRedisStore, RedisStore
from tests.redis import servers
from tests.redis.servers import Cluster, Process, keys_without_ttl

StoreFactory = Callable[[str, Callable[[], float], asyncio.AbstractEventLoop], Any]


def _assert_all_keys_expire(processes: list[Process]) -> None:
    forever = [key for process in processes for key in keys_without_ttl(process)]
    assert not forever, f"keys without a TTL after the run: {forever[:10]}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """A standalone redis-server for the whole session."""
    server = servers.redis_server(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
        _assert_all_keys_expire([server])
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A 3-master Redis Cluster for the whole session."""
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
        _assert_all_keys_expire(cluster.nodes)
    finally:
        cluster.stop()


def new_prefix() -> str:
    return f"t{secrets.token_hex(4)}:"


class Stores:
    """Makes stores for one test and closes them all afterwards."""

    def __init__(self, url: str, *, cluster: bool = False) -> None:
        self.url = url
        self.cluster = cluster
        self.prefix = new_prefix()
        self.made: list[tuple[Any, asyncio.AbstractEventLoop | None]] = []

    def __call__(
        self,
        flavour: str,
        clock: Any = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **options: Any,
    ) -> Any:
        """A store of ``flavour``; ``options`` go to ``from_url`` (e.g. socket timeouts)."""
        store: Any
        if flavour == "sync":
            store = RedisStore.from_url(
                self.url, prefix=self.prefix, cluster=self.cluster, **options
            )
        elif flavour == "async":
            store = AsyncRedisStore.from_url(
                self.url, prefix=self.prefix, cluster=self.cluster, **options
            )
        else:
            raise ValueError(flavour)
        self.made.append((store, loop))
        return store

    def close(self) -> None:
        for store, loop in self.made:
            if isinstance(store, RedisStore):
                store.close()
            elif loop is not None and not loop.is_closed():
                loop.run_until_complete(store.aclose())
            else:
                asyncio.run(store.aclose())


@pytest.fixture
def redis_store(redis_server: Process, loop: asyncio.AbstractEventLoop) -> Iterator[Stores]:
    """Store kind: ``RedisStore`` / ``AsyncRedisStore`` on the standalone server."""
    stores = Stores(redis_server.url)
    yield stores
    stores.close()


@pytest.fixture
def redis_cluster_store(
    redis_cluster: Cluster, loop: asyncio.AbstractEventLoop
) -> Iterator[Stores]:
    """Store kind: ``RedisStore`` / ``AsyncRedisStore`` on the 3-master Cluster."""
    stores = Stores(redis_cluster.url, cluster=True)
    yield stores
    stores.close()
