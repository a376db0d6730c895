"""Helpers shared by the HTML views."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from otpgate.core.challenge import Challenge, Status
from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response
from otpgate.core.i18n import error_message

from ..session import locale_of

METHODS = ("sms", "totp", "recovery")


def no_store(response: HttpResponse) -> HttpResponse:
    """Second-factor pages are never cached (they may show codes or secrets once)."""
    response["Cache-Control"] = "no-store"
    return response


def page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    error: OtpgateError | None = None,
) -> HttpResponse:
    """Render ``template``; with ``error``, its message, status and ``Retry-After``."""
    status = 200
    headers: dict[str, str] = {}
    if error is not None:
        answer = error_response(error, locale_of(request))
        status = answer.status
        headers = {k: v for k, v in answer.headers.items() if k == "Retry-After"}
        context = {
            **context,
            "error": error_message(error, locale_of(request)),
            "error_code": error.code,
            "retry_after": error.retry_after,
        }
    response = render(request, template, context, status=status)
    for name, value in headers.items():
        response[name] = value
    return no_store(response)


def with_next(name: str, next_url: str = "") -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def redirect(name: str, next_url: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(with_next(name, next_url))


def challenge_view(challenge: Challenge | None, now: float) -> dict[str, Any] | None:
    """What a page shows of a challenge (masked number, waits), or None."""
    if challenge is None:
        return None
    return {
        "masked_phone": challenge.masked_phone,
        "pending": challenge.status is Status.PENDING,
        "resend_in": max(0, math.ceil(challenge.resend_at - now)),
        "expires_in": max(0, math.ceil(challenge.expires_at - now)),
        "sends_left": challenge.sends_left,
        "attempts_left": challenge.attempts_left,
    }


def field(request: HttpRequest, name: str) -> str:
    """A POSTed text field ('' when absent); the core validates its content."""
    value = request.POST.get(name, "")
    return value if isinstance(value, str) else ""
