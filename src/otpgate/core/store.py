"""The store protocol: ephemeral state (challenges, budgets, lockouts, TOTP replay markers,
session/token state of the API integrations, transaction records).

Each method is one atomic state change; a Redis store runs each as one Lua script, one round
trip (a state write may ride on an approving check: ``then_put``, see ``state_write.py``;
optional, so a store written before it still works). Times are passed in by the verifier,
so an injected clock governs every decision; a store's own clock and TTLs only reclaim
memory. Store failures raise ``StorageUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .challenge import ChallengeRecord
from .policy import Budget, Denial, LockoutPolicy, Outcome
from .pumping import Block, Watch
from .state_write import StateWrite
from .transactions import TxRecord, TxResult, TxStep


@runtime_checkable
class Store(Protocol):
    def spend_budgets(self, entries: Sequence[Budget | Watch], now: float) -> Denial | None:
        """Count one send against every budget, or against none if any is spent; add the
        verified codes the watches carry, then judge and count the send in each watched range
        (otpgate.core.pumping): a blocked range refuses it (scope ``prefix``/``country``).

        Budgets with the same ``key`` are one *family* (such as a number's 15-minute and
        1-day budgets) sharing one record of sends: a send is recorded once in it, each
        budget of the family counts the sends of its own window against its own limit, and
        the record keeps sends for the family's longest window. A family is spent as one:
        every call names all of its budgets (a call naming only some may forget sends the
        others still count). A send is recorded with the family's ``part`` (the one its
        budgets name, if any); a budget with a part counts only the sends of that part."""

    def pumping_blocks(self, now: float) -> list[Block]:
        """The ranges the pumping guard blocks at ``now``."""

    def lift_pumping_block(self, key: str) -> bool:
        """Lift the block of the range stored under ``key``; False if it had none."""

    def create_challenge(
        self, record: ChallengeRecord, subject_key: str, now: float, lockout: LockoutPolicy
    ) -> Outcome:
        """Keep ``record`` (OK), unless the subject is locked (LOCKED, with retry_after)."""

    def get_challenge(self, challenge_id: str) -> ChallengeRecord | None:
        """The record, or None once it is gone."""

    def reserve_send(
        self, challenge_id: str, now: float, cooldown_base: int, max_sends: int
    ) -> Outcome:
        """Count a resend: OK with the record, COOLDOWN, MAX_SENDS or EXPIRED."""

    def mark_send_failed(self, challenge_id: str, now: float) -> None:
        """Delivery failed: status ``failed``; the cooldown of that send is given back."""

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
        """Check an SMS code: APPROVED exactly once, or why not. The (updated) record comes
        with APPROVED, INVALID, CONTEXT_MISMATCH, MAX_ATTEMPTS (when this check ended it)
        and LOCKED; EXPIRED needs none. A ``purpose`` other than the pending challenge's
        answers EXPIRED with the record, unchanged (no attempt counted, the code not
        compared).

        ``then_put`` (optional: only a store that declares ``folds_state_writes = True`` is
        given one): ``put_state`` it in the same atomic step, if and only if the answer is
        APPROVED (see ``otpgate.core.state_write``)."""

    def settle_attempt(
        self,
        subject_key: str,
        success: bool,
        now: float,
        lockout: LockoutPolicy,
        totp_step: int | None = None,
        then_put: StateWrite | None = None,
    ) -> Outcome:
        """Record a TOTP or recovery check decided by the verifier: APPROVED, INVALID (a
        failure counted), REPLAYED (``totp_step`` not newer than the last accepted one) or
        LOCKED (nothing counted). ``then_put``: as in :meth:`check_code`."""

    def cancel(self, challenge_id: str, now: float) -> bool:
        """Cancel a pending challenge; False if it was not pending."""

    def unlock(self, subject_key: str) -> None:
        """Forget a subject's failures and lifts any lock (soft or hard)."""

    def get_state(self, key: str) -> str | None:
        """The session/token state kept under ``key`` (a keyed digest), or None."""

    def put_state(self, key: str, value: str, ttl: int) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds, replacing any; a ``ttl`` of 0
        or less forgets any value (``get_state`` answers None)."""

    def get_transaction(self, key: str, now: float) -> TxRecord | None:
        """A transaction's record as it reads at ``now`` (see ``TxRecord.seen_at``)."""

    def step_transaction(self, key: str, step: TxStep, now: float, keep: int) -> TxResult:
        """Apply :func:`otpgate.core.transactions.advance` atomically (a CLAIM is won by
        exactly one caller); a written record is kept ``keep`` seconds."""


@runtime_checkable
class AsyncStore(Protocol):
    """:class:`Store` with every method a coroutine."""

    async def spend_budgets(
        self, entries: Sequence[Budget | Watch], now: float
    ) -> Denial | None: ...

    async def pumping_blocks(self, now: float) -> list[Block]: ...

    async def lift_pumping_block(self, key: str) -> bool: ...

    async def create_challenge(
        self, record: ChallengeRecord, subject_key: str, now: float, lockout: LockoutPolicy
    ) -> Outcome: ...

    async def get_challenge(self, challenge_id: str) -> ChallengeRecord | None: ...

    async def reserve_send(
        self, challenge_id: str, now: float, cooldown_base: int, max_sends: int
    ) -> Outcome: ...

    async def mark_send_failed(self, challenge_id: str, now: float) -> None: ...

    async def check_code(
        self,
        challenge_id: str,
        code_digest: str,
        context_digest: str,
        now: float,
        max_attempts: int,
        lockout: LockoutPolicy,
        purpose: str = "",
        then_put: StateWrite | None = None,
    ) -> Outcome: ...

    async def settle_attempt(
        self,
        subject_key: str,
        success: bool,
        now: float,
        lockout: LockoutPolicy,
        totp_step: int | None = None,
        then_put: StateWrite | None = None,
    ) -> Outcome: ...

    async def cancel(self, challenge_id: str, now: float) -> bool: ...

    async def unlock(self, subject_key: str) -> None: ...

    async def get_state(self, key: str) -> str | None: ...

    async def put_state(self, key: str, value: str, ttl: int) -> None: ...

    async def get_transaction(self, key: str, now: float) -> TxRecord | None: ...

    async def step_transaction(self, key: str, step: TxStep, now: float, keep: int) -> TxResult: ...
