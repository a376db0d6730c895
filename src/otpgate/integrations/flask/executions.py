"""Settling the transactions a request claimed (``confirm_transaction``) once its view is done.

A right code claims the transaction's execution for this request alone. The view's answer is
recorded (``after_this_request``): a 2xx-4xx answer as executed (``{"status": ...}`` plus
what the view passed to :func:`record_outcome`), a 5xx answer as failed. An exception the
app does not handle (Flask's ``got_request_exception`` signal) is failed too. A failed
transaction may be retried with the same code within its lifetime; an executed one answers
``transaction_executed`` with its recorded outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import after_this_request, g, got_request_exception, request
from werkzeug.wrappers import Response

from otpgate.core.confirmations import Confirmations
from otpgate.core.executions import TransactionStatus, response_outcome
from otpgate.core.web import view_action

from .extension import gate_state

_CLAIMS = "_otpgate_claims"
_OUTCOME = "_otpgate_outcome"


def executions() -> Confirmations:
    """Confirmation by any factor, and exactly-once execution, on this app's verifier."""
    return Confirmations(gate_state().verifier)


def claimed(key: str, challenge_id: str) -> None:
    """This request holds the claim to execute transaction ``key``."""
    claims: list[tuple[str, str]] | None = g.get(_CLAIMS)
    if claims is None:
        claims = []
        setattr(g, _CLAIMS, claims)
        after_this_request(_settle_response)
    claims.append((key, challenge_id))


def record_outcome(**outcome: Any) -> None:
    """Add to what this request's executed transaction is recorded as (small, JSON, nothing
    secret): an idempotent replay answers it."""
    recorded: dict[str, Any] = g.setdefault(_OUTCOME, {})
    recorded.update(outcome)


def settle(status: int | None) -> None:
    """Record the view's answer (``None``: it raised) for each transaction it claimed."""
    claims: list[tuple[str, str]] = g.pop(_CLAIMS, None) or []
    if not claims:
        return
    outcome, failed = response_outcome(status, g.get(_OUTCOME))
    gate = executions()
    for key, challenge_id in claims:
        gate.settle(key, challenge_id, outcome, failed=failed)


def transaction_state(
    context: Mapping[str, Any], *, action: str | None = None, subject: str | None = None
) -> TransactionStatus:
    """Where a transaction on ``context`` is: the signed-in user's (or ``subject``'s), for
    ``action`` (as given to ``confirm_transaction``; by default this request's, named as
    ``confirm_transaction`` names it: the endpoint, after the method unless GET, HEAD, POST)."""
    state = gate_state()
    who = subject if subject is not None else (state.users.current_subject() or "")
    bound = (
        action
        if action is not None
        else view_action(request.method, request.endpoint or request.path)
    )
    return executions().state(who, bound, context)


def _settle_response(response: Response) -> Response:
    settle(response.status_code)
    return response


def _on_exception(sender: Any, exception: BaseException | None = None, **kwargs: Any) -> None:
    settle(None)


got_request_exception.connect(_on_exception)
