"""``MemoryStore``: the embedded store for one process. Thread-safe; every method holds one lock.

Decisions use the ``now`` the verifier passes in; the store's own ``clock`` only decides when
finished challenges and idle counters are dropped.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .challenge import ChallengeRecord, Status
from .memory_keyed import KeyedMemory
from .memory_pumping import RangeCounts
from .policy import (
    HARD_LOCK,
    Budget,
    Denial,
    LockoutPolicy,
    Outcome,
    Result,
    lock_retry_after,
    resend_cooldown,
)
from .pumping import Block, Watch
from .state_write import StateWrite

#: How long a finished challenge is kept after it expires (then it is dropped).
_GRACE = 60.0
_SWEEP_EVERY = 256
#: How long a subject's TOTP replay marker is kept at least (beyond any TOTP window).
_MARKER_MEMORY = 3600.0


@dataclass
class _SubjectState:
    failures: int = 0
    locked_until: float = 0.0
    last_failure_at: float = 0.0
    last_totp_step: int = -1
    #: The sweep may drop this state after then (unless hard-locked).
    keep_until: float = 0.0


class MemoryStore(KeyedMemory):
    """Challenges, budgets and lockouts in this process's memory (and, from
    :class:`~otpgate.core.memory_keyed.KeyedMemory`, session state and transactions)."""

    nonblocking = True  # AsyncVerifier may call it directly
    #: Applies a ``then_put`` under the check's own lock (``otpgate.core.state_write``).
    folds_state_writes = True

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.clock = clock
        self._lock = threading.Lock()
        self._challenges: dict[str, ChallengeRecord] = {}
        self._subjects: dict[str, _SubjectState] = {}
        #: Per budget family, its sends: (time in whole microseconds, part).
        self._budgets: dict[str, list[tuple[int, str]]] = {}
        self._ranges = RangeCounts()
        self._writes = 0

    # -- budgets ------------------------------------------------------------------------------

    def spend_budgets(self, entries: Sequence[Budget | Watch], now: float) -> Denial | None:
        with self._lock:
            self._maybe_sweep()
            budgets = [e for e in entries if isinstance(e, Budget)]
            watches = [e for e in entries if isinstance(e, Watch)]
            self._ranges.credit(watches, now)
            # A family (budgets of one key) shares one record of sends, kept for its
            # longest window; each budget counts the sends within its own window. Send
            # times are whole microseconds (as a Redis store keeps them).
            # A budget with a part counts only its part's sends; a send is recorded with its
            # family's part (as a Redis store notes it in the member).
            micros = _micros(now)
            longest: dict[str, int] = {}
            parts: dict[str, str] = {}
            for budget in budgets:
                longest[budget.key] = max(longest.get(budget.key, 0), budget.window)
                if budget.part and not parts.get(budget.key):
                    parts[budget.key] = budget.part
            for key, window in longest.items():
                log = self._budgets.setdefault(key, [])
                log[:] = [sent for sent in log if sent[0] > micros - window * 1_000_000]
            worst: Denial | None = None
            for budget in budgets:
                since = micros - budget.window * 1_000_000
                recent = [
                    t
                    for t, part in self._budgets[budget.key]
                    if t > since and (not budget.part or part == budget.part)
                ]
                if len(recent) >= budget.limit:
                    oldest = recent[len(recent) - budget.limit]
                    wait = (oldest - micros) / 1_000_000 + budget.window
                    if worst is None or wait > worst.retry_after:
                        worst = Denial(budget.scope, wait)
            if worst is not None:
                return worst
            worst = self._ranges.judge(watches, now)
            if worst is not None:
                return worst
            # A family without a part notes the send at the whole second at or after it (as a
            # Redis store does, to keep its one-send keys small).
            second = -(-micros // 1_000_000) * 1_000_000
            for key in longest:
                part = parts.get(key, "")
                self._budgets[key].append((micros if part else second, part))
            self._ranges.count(watches, now)
            return None

    def pumping_blocks(self, now: float) -> list[Block]:
        with self._lock:
            return self._ranges.blocks(now)

    def lift_pumping_block(self, key: str) -> bool:
        with self._lock:
            return self._ranges.lift(key)

    # -- challenges ---------------------------------------------------------------------------

    def create_challenge(
        self, record: ChallengeRecord, subject_key: str, now: float, lockout: LockoutPolicy
    ) -> Outcome:
        with self._lock:
            state = self._subject(subject_key, now, lockout)
            if state is not None and _is_locked(state, now):
                return Outcome(Result.LOCKED, retry_after=lock_retry_after(state.locked_until, now))
            self._challenges[record.id] = record
            return Outcome(Result.OK, record=record)

    def get_challenge(self, challenge_id: str) -> ChallengeRecord | None:
        with self._lock:
            return self._challenges.get(challenge_id)

    def reserve_send(
        self, challenge_id: str, now: float, cooldown_base: int, max_sends: int
    ) -> Outcome:
        with self._lock:
            record = self._challenges.get(challenge_id)
            if record is None or record.status not in (Status.PENDING, Status.FAILED):
                return Outcome(Result.EXPIRED)
            if now >= record.expires_at:
                self._challenges[challenge_id] = _with(record, status=Status.EXPIRED)
                return Outcome(Result.EXPIRED)
            if record.sends >= max_sends:
                return Outcome(Result.MAX_SENDS)
            if now < record.next_send_at:
                return Outcome(Result.COOLDOWN, retry_after=record.next_send_at - now)
            sends = record.sends + 1
            record = _with(
                record,
                sends=sends,
                status=Status.PENDING,
                next_send_at=now + resend_cooldown(sends, cooldown_base),
            )
            self._challenges[challenge_id] = record
            return Outcome(Result.OK, record=record)

    def mark_send_failed(self, challenge_id: str, now: float) -> None:
        with self._lock:
            record = self._challenges.get(challenge_id)
            if record is not None and record.status is Status.PENDING:
                self._challenges[challenge_id] = _with(
                    record, status=Status.FAILED, next_send_at=now
                )

    def check_code(
        self,
        challenge_id: str,
        code_digest: str,
        context_digest: str,
        now: float,
        max_attempts: int,
        lockout: LockoutPolicy,
        purpose: str = "",
        then_put: StateWrite | None = None,
    ) -> Outcome:
        subject_key = challenge_id.split(".", 1)[0]
        with self._lock:
            record = self._challenges.get(challenge_id)
            if record is None or record.status is not Status.PENDING:
                if record is not None and record.status is Status.MAX_ATTEMPTS_REACHED:
                    return Outcome(Result.MAX_ATTEMPTS, attempts_left=0)
                return Outcome(Result.EXPIRED)
            if purpose and record.purpose != purpose:
                return Outcome(Result.EXPIRED, record=record)
            state = self._subject(subject_key, now, lockout, create=True)
            assert state is not None
            if _is_locked(state, now):
                retry_after = lock_retry_after(state.locked_until, now)
                return Outcome(Result.LOCKED, retry_after=retry_after, record=record)
            if now >= record.expires_at:
                self._challenges[challenge_id] = _with(record, status=Status.EXPIRED)
                return Outcome(Result.EXPIRED)
            context_ok = hmac.compare_digest(record.context_digest, context_digest)
            code_ok = hmac.compare_digest(record.code_digest, code_digest)
            if context_ok and code_ok:
                record = _with(record, status=Status.APPROVED)
                self._challenges[challenge_id] = record
                state.failures = 0
                if then_put is not None:
                    self.put_state(then_put.key, then_put.value, then_put.ttl)
                return Outcome(Result.APPROVED, record=record)
            attempts = record.attempts + 1
            ended = attempts >= max_attempts
            status = Status.MAX_ATTEMPTS_REACHED if ended else Status.PENDING
            record = _with(record, attempts=attempts, status=status)
            self._challenges[challenge_id] = record
            locked_now = _fail(state, now, lockout)
            if ended:
                result = Result.MAX_ATTEMPTS
            else:
                result = Result.INVALID if context_ok else Result.CONTEXT_MISMATCH
            return Outcome(
                result,
                attempts_left=max_attempts - attempts,
                locked_now=locked_now,
                retry_after=_retry_if(locked_now, state, now),
                record=record,
            )

    def settle_attempt(
        self,
        subject_key: str,
        success: bool,
        now: float,
        lockout: LockoutPolicy,
        totp_step: int | None = None,
        then_put: StateWrite | None = None,
    ) -> Outcome:
        with self._lock:
            state = self._subject(subject_key, now, lockout, create=True)
            assert state is not None
            if _is_locked(state, now):
                return Outcome(Result.LOCKED, retry_after=lock_retry_after(state.locked_until, now))
            if success and totp_step is not None and totp_step <= state.last_totp_step:
                locked_now = _fail(state, now, lockout)
                return Outcome(
                    Result.REPLAYED,
                    locked_now=locked_now,
                    retry_after=_retry_if(locked_now, state, now),
                )
            if success:
                state.failures = 0
                if totp_step is not None:
                    state.last_totp_step = totp_step
                if then_put is not None:
                    self.put_state(then_put.key, then_put.value, then_put.ttl)
                return Outcome(Result.APPROVED)
            locked_now = _fail(state, now, lockout)
            return Outcome(
                Result.INVALID, locked_now=locked_now, retry_after=_retry_if(locked_now, state, now)
            )

    def cancel(self, challenge_id: str, now: float) -> bool:
        with self._lock:
            record = self._challenges.get(challenge_id)
            if record is None or record.status not in (Status.PENDING, Status.FAILED):
                return False
            self._challenges[challenge_id] = _with(record, status=Status.CANCELED)
            return True

    def unlock(self, subject_key: str) -> None:
        with self._lock:
            state = self._subjects.get(subject_key)
            if state is not None:
                state.failures, state.locked_until = 0, 0.0

    # -- internals ----------------------------------------------------------------------------

    def _subject(
        self, key: str, now: float, lockout: LockoutPolicy, *, create: bool = False
    ) -> _SubjectState | None:
        state = self._subjects.get(key)
        if state is None:
            if not create:
                return None
            state = self._subjects[key] = _SubjectState()
        # Failures must outlive their memory, and TOTP replay markers their time window.
        state.keep_until = max(state.keep_until, now + max(lockout.memory, _MARKER_MEMORY))
        forgotten = state.failures and now - state.last_failure_at >= lockout.memory
        if forgotten and state.locked_until != HARD_LOCK:
            state.failures, state.locked_until = 0, 0.0
        return state

    def _maybe_sweep(self) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY:
            return
        now = self.clock()
        for key in [k for k, r in self._challenges.items() if r.expires_at + _GRACE < now]:
            del self._challenges[key]
        for key in [k for k, st in self._subjects.items() if _droppable(st, now)]:
            del self._subjects[key]
        oldest = _micros(now - 31 * 86400)
        for key in [k for k, log in self._budgets.items() if not log or log[-1][0] < oldest]:
            del self._budgets[key]
        self._ranges.sweep(now)


def _micros(now: float) -> int:
    """``now`` in whole microseconds, rounded as the Redis script rounds it."""
    return math.floor(now * 1_000_000 + 0.5)


def _with(record: ChallengeRecord, **changes: object) -> ChallengeRecord:
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def _droppable(state: _SubjectState, now: float) -> bool:
    return state.keep_until < now and state.locked_until != HARD_LOCK and state.locked_until < now


def _is_locked(state: _SubjectState, now: float) -> bool:
    return state.locked_until == HARD_LOCK or state.locked_until > now


def _fail(state: _SubjectState, now: float, lockout: LockoutPolicy) -> bool:
    """Count one failure; True if it started (or hardened) a lock."""
    state.failures += 1
    state.last_failure_at = now
    state.locked_until = lockout.locked_until(state.failures, now)
    return state.locked_until != 0.0


def _retry_if(locked_now: bool, state: _SubjectState, now: float) -> float | None:
    return lock_retry_after(state.locked_until, now) if locked_now else None
