"""Pure policy arithmetic shared by every store: lockout waits, resend cooldowns, budgets.

A store applies these atomically; the Redis scripts mirror them line for line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .challenge import ChallengeRecord
from .settings import Settings

#: ``locked_until`` of a hard lock: lifted only by ``unlock``.
HARD_LOCK = -1.0


@dataclass(frozen=True)
class LockoutPolicy:
    after: int
    base: int
    maximum: int
    hard_after: int
    memory: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            after=settings.lockout_after,
            base=settings.lockout_base,
            maximum=settings.lockout_max,
            hard_after=settings.hard_lock_after,
            memory=settings.failure_memory,
        )

    def locked_until(self, failures: int, now: float) -> float:
        """When a subject with ``failures`` consecutive failures may try again (0: now)."""
        if failures >= self.hard_after:
            return HARD_LOCK
        if failures >= self.after:
            wait: int = min(self.base << (failures - self.after), self.maximum)
            return now + wait
        return 0.0


def lock_retry_after(locked_until: float, now: float) -> float | None:
    """Seconds to wait, None for a hard lock, 0 when not locked."""
    if locked_until == HARD_LOCK:
        return None
    return max(0.0, locked_until - now)


def resend_cooldown(sends: int, base: int) -> int:
    """Wait after the ``sends``-th send: ``base``, then doubling (30, 60, 120, ...)."""
    cooldown: int = base << max(0, sends - 1)
    return cooldown


@dataclass(frozen=True)
class Budget:
    """A send budget to spend one unit of. ``key`` never holds a raw phone number or address."""

    scope: str
    key: str
    limit: int
    window: int


class Result(str, Enum):
    """What a store reports for a check, a start or a resend."""

    APPROVED = "approved"
    INVALID = "invalid"
    EXPIRED = "expired"
    MAX_ATTEMPTS = "max_attempts"
    CONTEXT_MISMATCH = "context_mismatch"
    REPLAYED = "replayed"
    LOCKED = "locked"
    COOLDOWN = "cooldown"
    MAX_SENDS = "max_sends"
    OK = "ok"


@dataclass(frozen=True)
class Outcome:
    """A store's answer. ``retry_after`` is None for a hard lock; ``locked_now`` marks the
    failure that started a lock; ``record`` comes with approvals, reserved sends and the
    failed checks of an existing challenge.
    """

    result: Result
    attempts_left: int | None = None
    retry_after: float | None = None
    locked_now: bool = False
    record: ChallengeRecord | None = None


@dataclass(frozen=True)
class Denial:
    """A spent budget: which one and when the oldest counted send leaves its window."""

    scope: str
    retry_after: float
