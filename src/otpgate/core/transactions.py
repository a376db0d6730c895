"""A confirmed transaction's life, as pure transitions (no I/O): the stores apply them.

A transaction is keyed by a keyed digest of (subject, action, details). Its record says where
it is::

    pending ──(right code)──► confirmed ──► executed   (outcome recorded; replays answer it)
       │                          │
       │                          └──────► failed ──(same code, within its lifetime)──► confirmed
       ├──► canceled                          └──► expired (lifetime over, or too many wrong codes)
       └──► expired (the code's lifetime is over)

``confirmed`` is the exclusive claim to execute: exactly one of any number of concurrent
executors gets it (:data:`Answer.OK` to a ``claim``). The protected handler then ``settle``\\ s
it: ``executed`` with a small JSON outcome (nothing secret), or ``failed``, which a client may
retry with the same challenge and code until the code's lifetime ends (the default: a failing
handler does not burn the confirmation). A process that dies mid-execution leaves the record
``confirmed``: it is never executed twice; it is forgotten with the record.

:func:`advance` is the only place these rules live. ``MemoryStore`` runs it under its lock;
the Redis store's ``transaction.lua`` mirrors it line for line (one script, one round trip).
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from .errors import CodeReplayed, OtpgateError

#: The longest recorded outcome (its compact JSON), so records stay small.
MAX_OUTCOME = 1024


class TxState(str, Enum):
    """Where a transaction is (what :func:`otpgate.core.executions.transaction_state` reads)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXECUTED = "executed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


class Step(str, Enum):
    """What happens to a transaction."""

    BEGIN = "begin"  # a challenge was sent for it
    CLAIM = "claim"  # its challenge was just approved: claim the execution
    APPROVE = "approve"  # a right code for the transaction pending on this challenge: claim it
    RETRY = "retry"  # claim again after a failure, with the same challenge and code
    SETTLE = "settle"  # the handler finished (``success``) or raised
    CANCEL = "cancel"  # the user gave up


class Answer(str, Enum):
    """How a step went. OK: it was applied (for CLAIM and RETRY: this caller executes)."""

    OK = "ok"
    EXECUTED = "executed"  # executed already: the record's outcome is the answer
    IN_PROGRESS = "in_progress"  # another executor holds the claim
    EXPIRED = "expired"  # nothing to claim (gone, canceled, expired, another challenge)
    INVALID = "invalid"  # a wrong code on a retry (counted)
    STALE = "stale"  # a settle or cancel that no longer applies (nothing changed)


@dataclass(frozen=True)
class TxRecord:
    """A transaction as stored. ``proof`` is a keyed digest of the accepted code (never the
    code); ``outcome`` the executed handler's compact JSON; ``expires_at`` ends the pending
    challenge's, and then the confirmation's, lifetime."""

    state: TxState
    challenge_id: str = ""
    proof: str = ""
    expires_at: float = 0.0
    attempts: int = 0
    outcome: str = ""
    updated_at: float = 0.0

    def seen_at(self, now: float) -> TxRecord:
        """The record as it reads at ``now``: pending and failed ones lapse at expires_at."""
        if self.state in (TxState.PENDING, TxState.FAILED) and now >= self.expires_at:
            return dataclasses.replace(self, state=TxState.EXPIRED)
        return self


@dataclass(frozen=True)
class TxStep:
    """One step and its arguments (unused ones stay empty)."""

    kind: Step
    challenge_id: str = ""
    proof: str = ""
    expires_at: float = 0.0
    success: bool = False
    outcome: str = ""
    max_attempts: int = 5


@dataclass(frozen=True)
class TxResult:
    """The answer to a step and the record after it (None: there is none)."""

    answer: Answer
    record: TxRecord | None = None


def advance(current: TxRecord | None, step: TxStep, now: float) -> tuple[TxResult, bool]:
    """Apply ``step`` at ``now``: the result, and whether its record is to be written."""
    record = current.seen_at(now) if current is not None else None
    state = record.state if record is not None else None
    if step.kind is Step.CANCEL:
        if record is None or state not in (TxState.PENDING, TxState.FAILED):
            return TxResult(Answer.STALE, record), False
        return _write(record, now, state=TxState.CANCELED)
    if step.kind is Step.SETTLE:
        if record is None or state is not TxState.CONFIRMED:
            return TxResult(Answer.STALE, record), False
        if record.challenge_id != step.challenge_id:
            return TxResult(Answer.STALE, record), False
        if step.success:
            return _write(record, now, state=TxState.EXECUTED, outcome=step.outcome)
        return _write(record, now, state=TxState.FAILED, attempts=0)
    if state is TxState.EXECUTED:
        return TxResult(Answer.EXECUTED, record), False
    if state is TxState.CONFIRMED:
        return TxResult(Answer.IN_PROGRESS, record), False
    if step.kind is Step.APPROVE:
        # Only the transaction pending (or failed) on this very challenge, in its lifetime:
        # a factor without a challenge of its own (an app) is bound to the details and the
        # action by this record, which showing them to the user began.
        if record is None or state not in (TxState.PENDING, TxState.FAILED):
            return TxResult(Answer.EXPIRED, record), False
        if record.challenge_id != step.challenge_id:
            return TxResult(Answer.EXPIRED, record), False
        return _write(record, now, state=TxState.CONFIRMED, proof=step.proof, attempts=0)
    if step.kind is Step.BEGIN:
        fresh = TxRecord(TxState.PENDING, step.challenge_id, "", step.expires_at, 0, "", now)
        return TxResult(Answer.OK, fresh), True
    if step.kind is Step.CLAIM:
        canceled = record is not None and state is TxState.CANCELED
        if canceled and record is not None and record.challenge_id == step.challenge_id:
            return TxResult(Answer.EXPIRED, record), False
        # The confirmation lives as long as its code: as given, else as the pending record.
        expires_at = step.expires_at
        if not expires_at and record is not None and record.challenge_id == step.challenge_id:
            expires_at = record.expires_at
        claimed = TxRecord(TxState.CONFIRMED, step.challenge_id, step.proof, expires_at, 0, "", now)
        return TxResult(Answer.OK, claimed), True
    # RETRY: only a failed execution of this very challenge, with its code, in its lifetime.
    # Still pending on this challenge while its code no longer checks: another request has
    # just checked it and is about to claim the execution.
    if record is not None and state is TxState.PENDING and record.challenge_id == step.challenge_id:
        return TxResult(Answer.IN_PROGRESS, record), False
    if record is None or state is not TxState.FAILED:
        return TxResult(Answer.EXPIRED, record), False
    if record.challenge_id != step.challenge_id:
        return TxResult(Answer.EXPIRED, record), False
    if not hmac.compare_digest(record.proof, step.proof):
        attempts = record.attempts + 1
        if attempts >= step.max_attempts:
            return _write(record, now, state=TxState.EXPIRED, attempts=attempts)
        return _write(record, now, attempts=attempts, answer=Answer.INVALID)
    return _write(record, now, state=TxState.CONFIRMED)


def _write(
    record: TxRecord, now: float, *, answer: Answer | None = None, **changes: Any
) -> tuple[TxResult, bool]:
    changed = dataclasses.replace(record, updated_at=now, **changes)
    if answer is None:
        answer = Answer.EXPIRED if changed.state is TxState.EXPIRED else Answer.OK
    return TxResult(answer, changed), True


# -- outcomes and errors ---------------------------------------------------------------------


def encode_outcome(outcome: Mapping[str, Any] | None) -> str:
    """A handler's outcome as the compact JSON kept in the record (at most MAX_OUTCOME)."""
    text = json.dumps(dict(outcome or {}), separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_OUTCOME:
        raise ValueError(f"a transaction's outcome is kept to {MAX_OUTCOME} characters of JSON")
    return text


def decode_outcome(text: str) -> dict[str, Any] | None:
    """The recorded outcome (None when there is none)."""
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


class TransactionExecuted(CodeReplayed):
    """This transaction was executed already; ``.outcome`` is what its execution recorded
    (an idempotent replay answers it, like an idempotency key)."""

    code: ClassVar[str] = "transaction_executed"
    http_status: ClassVar[int] = 409
    default_message: ClassVar[str] = "This transaction was already completed."

    def __init__(self, outcome: Mapping[str, Any] | None = None) -> None:
        self.outcome = dict(outcome or {})
        self.state = TxState.EXECUTED.value
        super().__init__()


class TransactionInProgress(OtpgateError):
    """Another request is executing this transaction right now."""

    code: ClassVar[str] = "transaction_in_progress"
    http_status: ClassVar[int] = 409
    default_message: ClassVar[str] = "This transaction is already being processed."

    def __init__(self) -> None:
        self.state = TxState.CONFIRMED.value
        super().__init__()
