"""``MemoryStore``'s expiring session state and transaction records (one process only).

Keys are keyed digests made by the caller; every entry expires. Transaction steps run
:func:`otpgate.core.transactions.advance` under one lock, so a claim is exclusive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .transactions import TxRecord, TxResult, TxStep, advance

_SWEEP_EVERY = 512


class KeyedMemory:
    """Expiring values by key: ``get_state``/``put_state`` and transaction records."""

    clock: Callable[[], float]

    def __init__(self) -> None:
        self._keyed_lock = threading.Lock()
        self._states: dict[str, tuple[float, str]] = {}
        self._transactions: dict[str, tuple[float, TxRecord]] = {}
        self._keyed_writes = 0

    # -- session/token state ------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        """The value kept under ``key``, or None (never set, or expired)."""
        with self._keyed_lock:
            entry = self._states.get(key)
            if entry is None or entry[0] <= self._now():
                return None
            return entry[1]

    def put_state(self, key: str, value: str, ttl: int) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (replacing any)."""
        with self._keyed_lock:
            self._states[key] = (self._now() + ttl, value)
            self._sweep()

    # -- transactions ------------------------------------------------------------------------

    def get_transaction(self, key: str, now: float) -> TxRecord | None:
        """The transaction's record as it reads at ``now`` (None: unknown or forgotten)."""
        with self._keyed_lock:
            record = self._live_transaction(key, now)
            return record.seen_at(now) if record is not None else None

    def step_transaction(self, key: str, step: TxStep, now: float, keep: int) -> TxResult:
        """Apply ``step`` atomically; a written record is kept ``keep`` seconds."""
        with self._keyed_lock:
            result, write = advance(self._live_transaction(key, now), step, now)
            if write and result.record is not None:
                self._transactions[key] = (now + keep, result.record)
                self._sweep()
            return result

    # -- internals ----------------------------------------------------------------------------

    def _now(self) -> float:
        clock = getattr(self, "clock", None)
        return clock() if clock is not None else time.time()

    def _live_transaction(self, key: str, now: float) -> TxRecord | None:
        entry = self._transactions.get(key)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def _sweep(self) -> None:
        self._keyed_writes += 1
        if self._keyed_writes % _SWEEP_EVERY:
            return
        now = self._now()
        for key in [k for k, (until, _) in self._states.items() if until <= now]:
            del self._states[key]
        for key in [k for k, (until, _) in self._transactions.items() if until <= now]:
            del self._transactions[key]
