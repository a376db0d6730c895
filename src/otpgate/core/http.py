"""The one mapping from an otpgate error to an HTTP answer, shared by every integration.

The body is RFC 9457 problem details with otpgate's stable ``code`` as an extension member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidCode, LockedOut, OtpgateError
from .i18n import error_message

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "https://otpgate.dev/errors/"


@dataclass(frozen=True)
class ErrorResponse:
    """What to answer: status, headers and a JSON-serialisable body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


def error_response(error: OtpgateError, locale: str | None = None) -> ErrorResponse:
    """Map ``error`` to status, headers (``Retry-After``) and a problem-details body whose
    ``title`` is in the language of ``locale`` (e.g. from Accept-Language)."""
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
    if isinstance(error, InvalidCode) and error.attempts_left is not None:
        body["attempts_left"] = error.attempts_left
    return ErrorResponse(status=status, headers=headers, body=body)
