"""Errors of the web layer, and the one way they become JSON answers.

LOCAL SHIM: the core has no errors for "this session must pass (or set up) a second factor
first"; Flask and FastAPI need the same ones. Until the core has them, they live here as
``OtpgateError`` subclasses so that the core's ``error_response`` maps them like any other.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext, gettext_noop

from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response

from .session import locale_of


class _Translated:
    """Mixin: the message is ``text`` in the active language (not an error class itself,
    so every ``OtpgateError`` subclass keeps a code of its own)."""

    text: ClassVar[str] = ""

    def __init__(self) -> None:
        cast(Any, super()).__init__(gettext(self.text))


class NotAuthenticated(_Translated, OtpgateError):
    code = "not_authenticated"
    http_status = 401
    text = gettext_noop("Sign in first.")


class SecondFactorRequired(_Translated, OtpgateError):
    code = "second_factor_required"
    http_status = 401
    text = gettext_noop("Verify your identity with your second factor first.")


class StepUpRequired(_Translated, OtpgateError):
    code = "step_up_required"
    http_status = 401
    text = gettext_noop("Confirm it is you with your second factor again.")


class EnrollmentRequired(_Translated, OtpgateError):
    code = "enrollment_required"
    http_status = 403
    text = gettext_noop("Set up two-step verification first.")


class NeedPrimaryFactor(_Translated, OtpgateError):
    code = "primary_factor_required"
    http_status = 409
    text = gettext_noop("Set up a phone number or an authenticator app first.")


class LastFactor(_Translated, OtpgateError):
    code = "last_factor"
    http_status = 409
    text = gettext_noop(
        "Two-step verification is required for your account: keep at least one phone number "
        "or authenticator app."
    )


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
