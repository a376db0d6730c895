"""Settling the transactions a request claimed (``confirm_transaction``) once its view is done.

A right code claims the transaction's execution for this request alone. When the view
answers, ``OtpgateMiddleware`` records it: a 2xx-4xx answer as executed (``{"status": ...}``
plus what the view passed to :func:`record_outcome`), a 5xx answer or an exception as failed,
which the user may retry with the same code within its lifetime. An exception is recorded
even without the middleware (Django's ``got_request_exception`` signal); without the
middleware a successful execution stays ``confirmed``: never executed twice, but not
``executed`` either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest

from otpgate.core.executions import Executions, TransactionStatus, response_outcome

from . import runtime

_CLAIMS = "_otpgate_claims"
_OUTCOME = "_otpgate_outcome"


def executions() -> Executions:
    """Exactly-once execution on the configured (sync) verifier's store."""
    return Executions(runtime.get_verifier())


def claimed(request: HttpRequest, key: str, challenge_id: str) -> None:
    """This request holds the claim to execute transaction ``key``."""
    claims: list[tuple[str, str]] = request.__dict__.setdefault(_CLAIMS, [])
    claims.append((key, challenge_id))


def record_outcome(request: HttpRequest, **outcome: Any) -> None:
    """Add to what this request's executed transaction is recorded as (small, JSON, nothing
    secret): an idempotent replay answers it."""
    request.__dict__.setdefault(_OUTCOME, {}).update(outcome)


def settle_request(request: HttpRequest, status: int | None) -> None:
    """Record the view's answer (``None``: it raised) for each transaction it claimed."""
    claims: list[tuple[str, str]] = request.__dict__.pop(_CLAIMS, [])
    if not claims:
        return
    outcome, failed = response_outcome(status, request.__dict__.get(_OUTCOME))
    gate = executions()
    for key, challenge_id in claims:
        gate.settle(key, challenge_id, outcome, failed=failed)


def transaction_state(
    request: HttpRequest, context: Mapping[str, Any], *, action: str | None = None
) -> TransactionStatus:
    """Where the signed-in user's transaction on ``context`` is (``action``: as given to
    ``confirm_transaction``, by default this request's view name)."""
    from .confirm_page import action_of

    user = getattr(request, "user", None)
    subject = str(user.pk) if user is not None and user.is_authenticated else ""
    return executions().state(subject, action_of(request, action), context)


def _on_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None:
        settle_request(request, None)


got_request_exception.connect(_on_exception, dispatch_uid="otpgate-transactions")
