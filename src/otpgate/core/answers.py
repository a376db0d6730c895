"""The answers an API gives while a transaction waits for its code, shared by FastAPI's
``require_transaction`` and Django REST framework's ``confirm_transaction``.

Both are errors the core's one mapping (``http.error_response``) renders; ``members`` are
what they add to the problem body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .challenge import Challenge, Verification
from .confirmations import PendingConfirmation
from .errors import ConfirmationRequired, FactorSetupRequired


class TransactionChallenged(ConfirmationRequired):
    """``confirmation_required`` for a transaction just opened: the answer carries the
    confirmation token (``challenge_id`` and the ``OTP-Challenge`` header, echoed back with
    the code), the factor to use, the factors the client may switch to, the ``summary`` of
    what the user approves and, for a factor that sends, its challenge (with the gate's
    time: expiry and resend wait)."""

    def __init__(
        self,
        pending: PendingConfirmation | Challenge,
        now: float,
        detail: str = "",
        summary: str | None = None,
    ) -> None:
        self.now = now
        self.members: dict[str, Any] = {}
        if isinstance(pending, Challenge):  # as before confirmations: an SMS challenge
            super().__init__(challenge=pending)
            return
        super().__init__(challenge_id=pending.token)
        self.challenge = pending.challenge
        self.members.update(pending.view(now), detail=detail or which_code(pending))
        if summary:
            self.members["summary"] = summary


class TransactionSetupRequired(FactorSetupRequired):
    """``factor_setup_required`` for a transaction: ``links.factors`` is the path that says
    which factors the subject can add."""

    def __init__(self, error: FactorSetupRequired, factors_path: str) -> None:
        super().__init__(purpose=error.purpose)
        self.members: dict[str, Any] = {"links": {"factors": factors_path}}


def which_code(pending: PendingConfirmation) -> str:
    """Which code to enter, in words (the answer's ``detail``)."""
    chosen = next((o for o in pending.options if o.name == pending.factor), None)
    if chosen is not None and chosen.sends:
        return f"We sent a code to {chosen.destination or 'you'}."
    if chosen is not None and chosen.input.kind == "browser":
        return "Answer the challenge's `browser_options` with the browser (a passkey)."
    return "Nothing was sent: enter the code your second factor (`factor`) shows now."


@dataclass(frozen=True)
class VerifiedTransaction:
    """What a handler behind a transaction confirmation receives: the details just confirmed."""

    subject: str
    details: dict[str, Any] = field(repr=False)
    verification: Verification
    #: What the code was bound to besides the details (FastAPI: "<METHOD> <route path>";
    #: Django: the view's name).
    action: str = ""
    #: What the handler's execution is recorded as (a small JSON object, nothing secret):
    #: an idempotent replay of the executed transaction answers it. Fill it in the handler.
    outcome: dict[str, Any] = field(default_factory=dict)
