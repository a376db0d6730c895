"""Store kinds the behaviour suite runs on. Each is a fixture name returning a factory
``(flavour: "sync" | "async", clock, loop) -> store``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from otpgate import MemoryStore

StoreFactory = Callable[[str, Callable[[], float], asyncio.AbstractEventLoop], Any]

STORE_KINDS = ["memory_store"]


@pytest.fixture
def memory_store() -> StoreFactory:
    return lambda flavour, clock, loop: MemoryStore(clock=clock)
