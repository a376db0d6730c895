"""Helpers shared by the HTML views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse

from otpgate.core.errors import OtpgateError
from otpgate.core.http import error_response
from otpgate.core.i18n import wait_parts

from .. import layout
from ..framing import protect
from ..notices import pending
from ..session import locale_of

#: The core's headers a page answer carries too (the rest are for API clients).
_PAGE_HEADERS = ("Retry-After", "Allow")


def no_store(response: HttpResponse) -> HttpResponse:
    """Second-factor pages are never cached (they may show codes or secrets once)."""
    response["Cache-Control"] = "no-store"
    return response


def page(
    request: HttpRequest,
    template: str | list[str],
    context: dict[str, Any],
    *,
    error: OtpgateError | None = None,
) -> HttpResponse:
    """Render ``template`` (or the first of a list that exists); with ``error``, the core's
    answer to it: status, ``Retry-After`` (``Allow``) and its message in the request's language; the
    pending success notices as ``otpgate_notices`` (shown once). Never cached, never framed
    (by default)."""
    status = 200
    headers: dict[str, str] = {}
    if error is not None:
        answer = error_response(error, locale_of(request))
        status = answer.status
        headers = {k: v for k, v in answer.headers.items() if k in _PAGE_HEADERS}
        context = {
            **context,
            "error": answer.body["title"],
            "error_code": answer.body["code"],
            "retry_after": error.retry_after,
            # a minute or more is said in minutes (the core decides: one rule for all pages)
            "retry_minutes": _minutes(error.retry_after),
        }
    context = {**layout.context(), **context, "otpgate_notices": pending(request)}
    response = render(request, template, context, status=status)
    for name, value in headers.items():
        response[name] = value
    protect(response)
    return no_store(response)


def _minutes(retry_after: int | None) -> int:
    if not retry_after:
        return 0
    unit, n = wait_parts(retry_after)
    return n if unit == "minutes" else 0


def with_next(name: str, next_url: str = "") -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def redirect(name: str, next_url: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(with_next(name, next_url))


def field(request: HttpRequest, name: str) -> str:
    """A POSTed text field ('' when absent); the core validates its content."""
    value = request.POST.get(name, "")
    return value if isinstance(value, str) else ""


def factor_template(name: str) -> str:
    """``otpgate/factors/<name>.html`` if the factor has its own template (a passkey's
    button), else "" (the page's code input): chosen by name, never by a branch per factor."""
    candidate = f"otpgate/factors/{name}.html"
    try:
        get_template(candidate)
    except TemplateDoesNotExist:
        return ""
    return candidate
