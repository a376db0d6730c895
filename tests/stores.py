"""Store kinds the behaviour suite runs on. Each is a fixture name returning a factory
``(flavour: "sync" | "async", clock, loop) -> store``.

The Redis kinds (and the session servers they need) live in ``tests/redis/fixtures.py``;
they are imported here so that ``tests/conftest.py`` makes them visible everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from otpgate import MemoryStore
from tests.redis.fixtures import (  # noqa: F401
    redis_cluster,
    redis_cluster_store,
    redis_server,
    redis_store,
)

StoreFactory = Callable[[str, Callable[[], float], asyncio.AbstractEventLoop], Any]

STORE_KINDS = ["memory_store", "redis_store", "redis_cluster_store"]


@pytest.fixture
def memory_store() -> StoreFactory:
    return lambda flavour, clock, loop: MemoryStore(clock=clock)
