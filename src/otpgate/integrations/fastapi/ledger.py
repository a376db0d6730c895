"""Where the FastAPI integration keeps its own short-lived state.

Two things: each token/session's :class:`~otpgate.SecondFactorState` (for step-up), and a
marker per confirmed transaction (so the same transaction cannot be confirmed twice, even
with another challenge). Keys are keyed digests, never raw tokens; a state (it names the
subject) is kept sealed, bound to its key; every entry expires.

SHIM: the core's store protocol has no general expiring key-value operations, so this
module talks to Redis itself (through the ``AsyncRedisStore``'s own client and key prefix).
Proposed core API: ``AsyncStore.put_state(key, value: str, ttl)``, ``get_state(key)``,
``add_marker(key, ttl) -> bool`` on every store (see the integration's notes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from otpgate.core.crypto import DecryptionError, Keyring
from otpgate.core.errors import StorageUnavailable
from otpgate.core.web import SecondFactorState


class Ledger(Protocol):
    """Expiring JSON values and markers, by key."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any], ttl: int) -> None: ...

    async def add(self, key: str, ttl: int) -> bool:
        """Set a marker; True if it was not set yet (atomic)."""

    async def has(self, key: str) -> bool:
        """True if a marker (or value) is set."""


class MemoryLedger:
    """The ledger in this process's memory (with ``MemoryStore``: one process only)."""

    _SWEEP_EVERY = 512

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._writes = 0

    def _live(self, key: str, now: float) -> tuple[float, dict[str, Any] | None] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= now:
            del self._entries[key]
            return None
        return entry

    def _write(self, key: str, value: dict[str, Any] | None, ttl: int, now: float) -> None:
        self._entries[key] = (now + ttl, value)
        self._writes += 1
        if self._writes % self._SWEEP_EVERY == 0:
            for stale in [k for k, (until, _) in self._entries.items() if until <= now]:
                del self._entries[stale]

    async def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._live(key, self._clock())
            return None if entry is None or entry[1] is None else dict(entry[1])

    async def put(self, key: str, value: dict[str, Any], ttl: int) -> None:
        with self._lock:
            self._write(key, dict(value), ttl, self._clock())

    async def add(self, key: str, ttl: int) -> bool:
        with self._lock:
            now = self._clock()
            if self._live(key, now) is not None:
                return False
            self._write(key, None, ttl, now)
            return True

    async def has(self, key: str) -> bool:
        with self._lock:
            return self._live(key, self._clock()) is not None


class RedisLedger:
    """The ledger in Redis, next to the ``AsyncRedisStore``'s keys (same client, same prefix).
    Single-key commands only, so it works on a Cluster too; failures are StorageUnavailable."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}fastapi:"

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        try:
            return await getattr(self._client, method)(*args, **kwargs)
        except (redis.exceptions.RedisError, OSError) as error:
            raise StorageUnavailable() from error

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._call("get", self._prefix + key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def put(self, key: str, value: dict[str, Any], ttl: int) -> None:
        await self._call("set", self._prefix + key, json.dumps(value), ex=ttl)

    async def add(self, key: str, ttl: int) -> bool:
        return bool(await self._call("set", self._prefix + key, "1", ex=ttl, nx=True))

    async def has(self, key: str) -> bool:
        return bool(await self._call("exists", self._prefix + key))


def seal_state(keyring: Keyring, key: str, state: SecondFactorState) -> dict[str, Any]:
    """What the ledger keeps of ``state`` under ``key``: sealed, opening only there."""
    return {"sealed": keyring.seal(json.dumps(state.dump()), context=key)}


def open_state(keyring: Keyring, key: str, held: dict[str, Any] | None) -> SecondFactorState:
    """The state kept under ``key``; an empty one (not fresh) if there is none, or it is in
    the earlier clear form, sealed under a retired key, or damaged: it fails closed."""
    sealed = held.get("sealed") if held else None
    if not isinstance(sealed, str):
        return SecondFactorState()
    try:
        state = json.loads(keyring.open(sealed, context=key))
    except (DecryptionError, ValueError):
        return SecondFactorState()
    return SecondFactorState.load({"otpgate": state})
