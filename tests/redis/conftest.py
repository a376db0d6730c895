"""Fixtures of the Redis tests only: Sentinel, a private server to break, helpers.

The standalone server and the Cluster (shared with the behaviour suite) come from
``tests/redis/fixtures.py`` through ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otpgate import OutboxSender, Settings
from tests.conftest import KEY
from tests.redis import servers
from tests.redis.fixtures import new_prefix
from tests.redis.servers import Process, Sentinel


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sentinel]:
    """A master, a replica and three sentinels, for the whole session."""
    sentinel = Sentinel(tmp_path_factory.mktemp("sentinel"))
    try:
        yield sentinel
    finally:
        sentinel.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Process]:
    """A redis-server of this test alone, to stop, pause and restart."""
    server = servers.redis_server(tmp_path / "own").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return new_prefix()


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_keys=(KEY,))


@pytest.fixture
def outbox() -> OutboxSender:
    return OutboxSender()
