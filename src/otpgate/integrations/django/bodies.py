"""Before any of otpgate's views runs: a body it cannot read safely is refused.

:func:`checked_body` wraps each view of ``otpgate.integrations.django.urls``: a body over the
core's ``MAX_BODY_BYTES`` (by its ``Content-Length``), or a JSON body the core's parser
refuses (not UTF-8, broken, nested too deeply, not an object), is answered 400
``malformed_input`` (problem JSON for API clients, the error page otherwise) and the view
never runs, so no view acts on a request it could not read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse

from otpgate.core.bodies import parse_json_object, too_large
from otpgate.core.errors import MalformedInput

from .errors import problem, wants_json


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The 400 answer to a body otpgate cannot read safely, or None to go on."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    try:
        if declared.isascii() and declared.isdigit() and too_large(int(declared)):
            raise MalformedInput("The request body is too large.")
        content_type = request.content_type or ""
        if content_type == "application/json" or content_type.endswith("+json"):
            parse_json_object(request.body)
    except MalformedInput as error:
        if wants_json(request):
            return problem(error, request)
        from .views.common import page

        return page(request, "otpgate/manage_error.html", {}, error=error)
    return None


def checked_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """``view`` (sync or async), behind :func:`refusal`."""
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = refusal(request)
            return refused if refused is not None else await view(request, *args, **kwargs)

        return async_checked

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        refused = refusal(request)
        return refused if refused is not None else view(request, *args, **kwargs)

    return checked
