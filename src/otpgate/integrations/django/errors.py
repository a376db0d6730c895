"""Errors of the web layer, and the one way they become JSON answers.

LOCAL SHIM: the core has no errors for "this session must pass (or set up) a second factor
first"; Flask and FastAPI need the same ones. Until the core has them, they live here as
``OtpgateError`` subclasses so that the core's ``error_response`` maps them like any other.
"""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext, gettext_noop

from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response

from .session import locale_of


class _Translated(OtpgateError):
    text: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(gettext(self.text))


class NotAuthenticated(_Translated):
    code = "not_authenticated"
    http_status = 401
    text = gettext_noop("Sign in first.")


class SecondFactorRequired(_Translated):
    code = "second_factor_required"
    http_status = 401
    text = gettext_noop("Verify your identity with your second factor first.")


class StepUpRequired(_Translated):
    code = "step_up_required"
    http_status = 401
    text = gettext_noop("Confirm it is you with your second factor again.")


class EnrollmentRequired(_Translated):
    code = "enrollment_required"
    http_status = 403
    text = gettext_noop("Set up two-step verification first.")


class NeedPrimaryFactor(_Translated):
    code = "primary_factor_required"
    http_status = 409
    text = gettext_noop("Set up a phone number or an authenticator app first.")


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
