"""Deprecated: the FastAPI integration's former ledger, now a thin adapter over the store.

The step-up state of each token/session and the transaction markers moved into the core's
store protocol (``get_state``/``put_state``, ``get_transaction``/``step_transaction``:
memory and Redis, sync and async, one round trip each, TTLs on every key); see
:class:`~otpgate.core.executions.AsyncExecutions` and ``OtpGate.executions``. These classes
keep the old ``get``/``put``/``add``/``has`` API working on top of that.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from otpgate.core.memory_store import MemoryStore
from otpgate.core.transactions import Answer, Step, TxStep


class Ledger(Protocol):
    """Expiring JSON values and markers, by key."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any], ttl: int) -> None: ...

    async def add(self, key: str, ttl: int) -> bool:
        """Set a marker; True if it was not set yet (atomic)."""

    async def has(self, key: str) -> bool:
        """True if a marker (or value) is set."""


class StoreLedger:
    """The :class:`Ledger` API on a store (an ``AsyncStore``, or a non-blocking ``Store``
    such as ``MemoryStore``): values are session states, markers are transaction claims."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def _call(self, name: str, *args: Any) -> Any:
        result = getattr(self._store, name)(*args)
        return await result if hasattr(result, "__await__") else result

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._call("get_state", key)
        try:
            value = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def put(self, key: str, value: dict[str, Any], ttl: int) -> None:
        await self._call("put_state", key, json.dumps(value), ttl)

    async def add(self, key: str, ttl: int) -> bool:
        step = TxStep(Step.CLAIM, challenge_id="marker")
        result = await self._call("step_transaction", key, step, self._clock(), ttl)
        return bool(result.answer is Answer.OK)

    async def has(self, key: str) -> bool:
        if await self._call("get_transaction", key, self._clock()) is not None:
            return True
        return await self._call("get_state", key) is not None


class MemoryLedger(StoreLedger):
    """Deprecated: a :class:`StoreLedger` on its own ``MemoryStore``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(MemoryStore(clock=clock), clock)


class RedisLedger(StoreLedger):
    """Deprecated: a :class:`StoreLedger` on an ``AsyncRedisStore`` of ``client``."""

    def __init__(self, client: Any, prefix: str) -> None:
        from otpgate.redis import AsyncRedisStore

        super().__init__(AsyncRedisStore(client, prefix=prefix))
