"""Exactly-once, observable execution of confirmed transactions (what the integrations call).

``Executions`` (for a :class:`~otpgate.Verifier`) and ``AsyncExecutions`` (for an
:class:`~otpgate.AsyncVerifier`) wrap the store's transaction records (see
:mod:`otpgate.core.transactions`). An integration:

1. ``guard(key)`` before sending a code (an executed transaction answers its outcome);
2. ``begin(key, challenge)`` once the code is sent;
3. ``confirm(key, subject, challenge_id, code, check)``: ``check`` is the verifier's check of
   the code; a right code claims the execution for this caller alone. A challenge already
   used is not "expired" when its transaction failed: the same code claims it again, within
   the code's lifetime; when it was executed, :class:`TransactionExecuted` carries the
   recorded outcome;
4. ``settle(key, challenge_id, outcome)`` after the handler returned, or
   ``settle(key, challenge_id, failed=True)`` when it raised.

``state(subject, action, details)`` reads where a transaction is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .challenge import Challenge, Verification
from .context import canonical_context
from .errors import ChallengeExpired, InvalidCode
from .transactions import (
    Answer,
    Step,
    TransactionExecuted,
    TransactionInProgress,
    TxRecord,
    TxResult,
    TxStep,
    decode_outcome,
    encode_outcome,
)

if TYPE_CHECKING:
    from .aio import AsyncVerifier
    from .verifier import Verifier

#: How long a transaction's record is kept by default (its replay window): a day.
DEFAULT_KEEP = 86400


@dataclass(frozen=True)
class TransactionStatus:
    """Where a transaction is: ``state`` is pending, confirmed (executing now), executed,
    failed, expired, canceled, or "unknown" (never started, or forgotten). ``retryable``:
    it failed and the same code may confirm it again until ``expires_at``; ``outcome``: what
    its execution recorded."""

    state: str
    retryable: bool = False
    expires_at: float | None = None
    outcome: dict[str, Any] | None = None
    challenge_id: str | None = None


def status_of(record: TxRecord | None) -> TransactionStatus:
    if record is None:
        return TransactionStatus("unknown")
    return TransactionStatus(
        state=record.state.value,
        retryable=record.state.value == "failed",
        expires_at=record.expires_at or None,
        outcome=decode_outcome(record.outcome),
        challenge_id=record.challenge_id or None,
    )


def _raise_for(result: TxResult, expired: ChallengeExpired | None = None) -> None:
    """Raise what a step's answer means for the caller (nothing for OK and STALE)."""
    answer = result.answer
    if answer is Answer.EXECUTED:
        outcome = decode_outcome(result.record.outcome) if result.record else None
        raise TransactionExecuted(outcome)
    if answer is Answer.IN_PROGRESS:
        raise TransactionInProgress()
    if answer is Answer.INVALID:
        raise InvalidCode()
    if answer is Answer.EXPIRED:
        raise expired or ChallengeExpired()


class _Base:
    def __init__(self, verifier: Verifier | AsyncVerifier, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            raise ValueError("a transaction must be kept at least one second")
        self.verifier = verifier
        self.keep = keep

    def key(self, subject: str, action: str, details: Mapping[str, Any]) -> str:
        """The transaction's key: a keyed digest of (subject, action, details)."""
        return self.verifier.keyring.digest(
            "transaction", subject, action, canonical_context(details)
        )

    def _proof(self, challenge_id: str, code: str) -> str:
        return self.verifier.keyring.digest(
            "transaction-proof", challenge_id, "".join(code.split())
        )

    def _begin(self, challenge: Challenge) -> TxStep:
        return TxStep(Step.BEGIN, challenge_id=challenge.id, expires_at=challenge.expires_at)

    def _claim(self, challenge_id: str, code: str, fresh: bool) -> TxStep:
        return TxStep(
            Step.CLAIM if fresh else Step.RETRY,
            challenge_id=challenge_id,
            proof=self._proof(challenge_id, code),
            max_attempts=self.verifier.settings.max_attempts,
        )

    def _retried(self, subject: str, challenge_id: str) -> Verification:
        return Verification(subject, "transaction", "sms", self.verifier.clock(), challenge_id)

    @staticmethod
    def _settle(challenge_id: str, outcome: Mapping[str, Any] | None, failed: bool) -> TxStep:
        text = "" if failed else encode_outcome(outcome)
        return TxStep(Step.SETTLE, challenge_id=challenge_id, success=not failed, outcome=text)


class Executions(_Base):
    """Exactly-once execution of transactions, on a :class:`~otpgate.Verifier`'s store."""

    verifier: Verifier

    def _step(self, key: str, step: TxStep) -> TxResult:
        return self.verifier.store.step_transaction(key, step, self.verifier.clock(), self.keep)

    def state(self, subject: str, action: str, details: Mapping[str, Any]) -> TransactionStatus:
        """Where the transaction of ``subject`` for ``action`` on ``details`` is."""
        key = self.key(subject, action, details)
        return status_of(self.verifier.store.get_transaction(key, self.verifier.clock()))

    def guard(self, key: str) -> None:
        """Raise TransactionExecuted or TransactionInProgress if it is too late to start."""
        status = status_of(self.verifier.store.get_transaction(key, self.verifier.clock()))
        if status.state == "executed":
            raise TransactionExecuted(status.outcome)
        if status.state == "confirmed":
            raise TransactionInProgress()

    def begin(self, key: str, challenge: Challenge) -> None:
        """A code was sent for it: the transaction is pending on ``challenge``."""
        _raise_for(self._step(key, self._begin(challenge)))

    def confirm(
        self,
        key: str,
        subject: str,
        challenge_id: str,
        code: str,
        check: Callable[[], Verification],
    ) -> Verification:
        """Check the code (``check``) and claim the execution, or raise why not."""
        try:
            verification = check()
        except ChallengeExpired as expired:
            _raise_for(self._step(key, self._claim(challenge_id, code, fresh=False)), expired)
            return self._retried(subject, challenge_id)
        _raise_for(self._step(key, self._claim(challenge_id, code, fresh=True)))
        return verification

    def settle(
        self,
        key: str,
        challenge_id: str,
        outcome: Mapping[str, Any] | None = None,
        *,
        failed: bool = False,
    ) -> None:
        """The handler returned (``outcome`` is recorded) or raised (``failed``: retryable)."""
        self._step(key, self._settle(challenge_id, outcome, failed))

    def cancel(self, key: str) -> bool:
        """Cancel a pending (or failed) transaction; False if it was neither."""
        return self._step(key, TxStep(Step.CANCEL)).answer is Answer.OK


class AsyncExecutions(_Base):
    """:class:`Executions` for an :class:`~otpgate.AsyncVerifier` (every method awaits)."""

    verifier: AsyncVerifier

    async def _step(self, key: str, step: TxStep) -> TxResult:
        store = self.verifier.store
        return await store.step_transaction(key, step, self.verifier.clock(), self.keep)

    async def state(
        self, subject: str, action: str, details: Mapping[str, Any]
    ) -> TransactionStatus:
        """Where the transaction of ``subject`` for ``action`` on ``details`` is."""
        key = self.key(subject, action, details)
        return status_of(await self.verifier.store.get_transaction(key, self.verifier.clock()))

    async def guard(self, key: str) -> None:
        """Raise TransactionExecuted or TransactionInProgress if it is too late to start."""
        record = await self.verifier.store.get_transaction(key, self.verifier.clock())
        status = status_of(record)
        if status.state == "executed":
            raise TransactionExecuted(status.outcome)
        if status.state == "confirmed":
            raise TransactionInProgress()

    async def begin(self, key: str, challenge: Challenge) -> None:
        """A code was sent for it: the transaction is pending on ``challenge``."""
        _raise_for(await self._step(key, self._begin(challenge)))

    async def confirm(
        self,
        key: str,
        subject: str,
        challenge_id: str,
        code: str,
        check: Callable[[], Awaitable[Verification]],
    ) -> Verification:
        """Check the code (``check``) and claim the execution, or raise why not."""
        try:
            verification = await check()
        except ChallengeExpired as expired:
            retry = self._claim(challenge_id, code, fresh=False)
            _raise_for(await self._step(key, retry), expired)
            return self._retried(subject, challenge_id)
        _raise_for(await self._step(key, self._claim(challenge_id, code, fresh=True)))
        return verification

    async def settle(
        self,
        key: str,
        challenge_id: str,
        outcome: Mapping[str, Any] | None = None,
        *,
        failed: bool = False,
    ) -> None:
        """The handler returned (``outcome`` is recorded) or raised (``failed``: retryable)."""
        await self._step(key, self._settle(challenge_id, outcome, failed))

    async def cancel(self, key: str) -> bool:
        """Cancel a pending (or failed) transaction; False if it was neither."""
        return (await self._step(key, TxStep(Step.CANCEL))).answer is Answer.OK


def response_outcome(
    status: int | None, extra: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any] | None, bool]:
    """What a web integration records when the protected view answered ``status`` (None: it
    raised): ``(outcome, failed)``. A 5xx answer or an exception is a failure (retryable);
    anything else is executed, recorded as ``{"status": status, **extra}``."""
    if status is None or status >= 500:
        return None, True
    return {**dict(extra or {}), "status": status}, False
