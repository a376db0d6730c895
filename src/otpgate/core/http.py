"""The one mapping from an otpgate error to an HTTP answer, shared by every integration.

The body is RFC 9457 problem details with otpgate's stable ``code`` as an extension member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import (
    AuthenticationRequired,
    ConfirmationRequired,
    FreshOtpRequired,
    InvalidCode,
    LockedOut,
    MethodNotAllowed,
    OtpgateError,
    OtpRequired,
    SmsTemporarilyUnavailable,
)
from .i18n import error_message
from .web import challenge_view

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "https://otpgate.dev/errors/"


@dataclass(frozen=True)
class ErrorResponse:
    """What to answer: status, headers and a JSON-serialisable body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


def error_response(
    error: OtpgateError, locale: str | None = None, *, now: float | None = None
) -> ErrorResponse:
    """Map ``error`` to status, headers and a problem-details body whose ``title`` is in the
    language of ``locale`` (e.g. from Accept-Language).

    Headers: ``Retry-After`` for limits; ``Allow`` on a 405 ``method_not_allowed``;
    ``WWW-Authenticate`` on every 401, with RFC 9470's
    ``insufficient_user_authentication`` (and ``max_age``) when a second factor is missing;
    ``OTP-Challenge`` naming the challenge to confirm or to resend. ``now`` adds the
    challenge's public view (:func:`~otpgate.core.web.challenge_view`) when one is attached
    (by default the error's own ``now``, if it has one). An error's ``members`` (a dict, as
    :mod:`otpgate.core.answers`' transaction answers have) are added to the body.
    """
    if now is None:
        carried = getattr(error, "now", None)
        now = carried if isinstance(carried, (int, float)) else None
    status = error.http_status
    if isinstance(error, LockedOut) and error.hard:
        status = 423
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error_message(error, locale),
        "status": status,
        "code": error.code,
    }
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store"}
    if error.retry_after is not None:
        body["retry_after"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, SmsTemporarilyUnavailable):
        body["reason"] = error.reason  # sim_swap, prefix_blocked, country_blocked, ...
    if isinstance(error, InvalidCode) and error.attempts_left is not None:
        body["attempts_left"] = error.attempts_left
    if isinstance(error, (OtpRequired, FreshOtpRequired, ConfirmationRequired)):
        challenge = (
            'Bearer error="insufficient_user_authentication", '
            f'error_description="{_quotable(error.default_message)}"'
        )
        if isinstance(error, FreshOtpRequired) and error.max_age is not None:
            body["max_age"] = error.max_age
            challenge += f', max_age="{error.max_age}"'
        headers["WWW-Authenticate"] = challenge
    elif isinstance(error, AuthenticationRequired):
        headers["WWW-Authenticate"] = "Bearer"
    challenge_id = getattr(error, "challenge_id", None)
    if isinstance(challenge_id, str):
        body["challenge_id"] = challenge_id
        headers["OTP-Challenge"] = challenge_id
    transaction_state = getattr(error, "state", None)
    if isinstance(transaction_state, str):  # TransactionExecuted, TransactionInProgress
        body["transaction_state"] = transaction_state
        outcome = getattr(error, "outcome", None)
        if isinstance(outcome, dict):
            body["outcome"] = outcome
    if isinstance(error, ConfirmationRequired) and error.challenge and now is not None:
        body["challenge"] = challenge_view(error.challenge, now)
    members = getattr(error, "members", None)
    if isinstance(members, dict):
        body.update(members)
    return ErrorResponse(status=status, headers=headers, body=body)


def _quotable(text: str) -> str:
    """``text`` as an RFC 6750 quoted-string may hold it: printable ASCII, no quote or \\."""
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')
