"""How the core's errors become JSON answers here: :func:`problem`, the core's one mapping
(``error_response``) as a ``JsonResponse``, and :func:`wants_json` to tell API clients apart.

The errors themselves (``LoginRequired``, ``OtpRequired``, ``FreshOtpRequired``,
``EnrollmentRequired``, ``PrimaryFactorRequired``, ``LastFactor``) are the core's.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response

from .session import locale_of


def problem(error: OtpgateError, request: HttpRequest) -> JsonResponse:
    """The core's mapping of ``error`` (status, ``Retry-After``, problem body) as a response."""
    answer = error_response(error, locale_of(request))
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def wants_json(request: HttpRequest) -> bool:
    """True for API clients: JSON bodies, or ``Accept`` naming JSON and not HTML."""
    accept = request.headers.get("Accept", "")
    content_type = request.headers.get("Content-Type", "")
    if "json" in content_type:
        return True
    return "json" in accept and "html" not in accept
