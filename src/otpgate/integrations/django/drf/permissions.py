"""``SecondFactorPassed`` / ``FreshSecondFactor``: DRF permissions answering otpgate's
problem details, and the exception handler that renders them.

A user without a second factor gets ``enrollment_required`` (403); one who has not passed it
``otp_required`` (401), or ``fresh_otp_required`` (401, RFC 9470 ``max_age``) when it is older
than ``max_age``; each 401 carries ``WWW-Authenticate: Bearer
error="insufficient_user_authentication"``. An anonymous request is left to DRF (``False``:
its own 401/403), so these compose with ``IsAuthenticated``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from rest_framework import views
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response
from otpgate.core.web import guard_error

from .. import policy, runtime
from ..errors import problem
from . import links, state


class OtpgateAPIException(APIException):
    """An otpgate error raised inside DRF. :func:`exception_handler` renders it as the
    problem body; DRF's own handler still answers its status, ``WWW-Authenticate`` and
    ``Retry-After`` with ``{"detail": ...}``."""

    def __init__(self, error: OtpgateError) -> None:
        self.error = error
        answer = error_response(error)
        self.status_code = answer.status
        self.auth_header = answer.headers.get("WWW-Authenticate")
        self.wait = error.retry_after
        super().__init__(detail=answer.body["title"], code=error.code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: otpgate errors as problem details (the core's
    one mapping; a missing second factor links to the step-up endpoints if ``drf/urls.py``
    is installed), everything else as DRF's default handler answers it."""
    error = exc.error if isinstance(exc, OtpgateAPIException) else exc
    if isinstance(error, OtpgateError):
        request: Any = context.get("request")
        django_request: HttpRequest = getattr(request, "_request", request)
        response = problem(error, django_request)
        found = links.step_up_links(error)
        if found:
            body = json.loads(response.content)
            body["links"] = {**found, **body.get("links", {})}
            response.content = json.dumps(body).encode()
        return response
    return views.exception_handler(exc, context)


class OtpgateExceptionHandlerMixin:
    """For an ``APIView`` in a project whose ``EXCEPTION_HANDLER`` is not otpgate's: this
    view renders otpgate errors as problem details anyway."""

    def get_exception_handler(self) -> Any:
        return exception_handler


class SecondFactorPassed(BasePermission):
    """The request's session or token passed a second factor (at any time; a token's is
    remembered ``state.TOKEN_STATE_TTL`` seconds)."""

    def _max_age(self) -> int | None:
        return None

    def has_permission(self, request: Request, view: Any) -> bool:
        subject = state.subject_of(request)
        if not subject:
            return False  # DRF answers: not authenticated
        missing = guard_error(
            state.load(request),
            subject,
            runtime.get_verifier().clock(),
            max_age=self._max_age(),
            has_factor=lambda: policy.has_factor(subject),
        )
        if missing is None:
            return True
        raise OtpgateAPIException(missing)


class FreshSecondFactor(SecondFactorPassed):
    """The request's session or token passed a second factor within ``max_age`` seconds
    (default ``OTPGATE_STEP_UP_MAX_AGE``). List the class, or an instance with its own
    ``max_age``: ``permission_classes = [IsAuthenticated, FreshSecondFactor(max_age=60)]``."""

    def __init__(self, max_age: int | None = None) -> None:
        if max_age is not None and max_age < 1:
            raise ValueError("max_age must be at least one second")
        self.max_age = max_age

    def __call__(self) -> FreshSecondFactor:
        """DRF instantiates each entry of ``permission_classes``: an instance stands for
        itself."""
        return self

    def _max_age(self) -> int | None:
        if self.max_age is not None:
            return min(self.max_age, state.TOKEN_STATE_TTL)
        return runtime.get_verifier().settings.step_up_max_age
