"""OPTIONS and HEAD on otpgate's URLs, the way Django's class-based views answer them.

:func:`answering` wraps each view of ``otpgate.integrations.django.urls`` with the methods
it answers (``GET``/``POST`` for a page, ``POST`` for an action, ``GET`` for a script):

- ``OPTIONS`` answers 200 with an empty body and ``Allow`` (those methods, ``HEAD`` where
  ``GET`` is, and ``OPTIONS``); the view never runs;
- ``HEAD`` where ``GET`` is allowed runs the view as a ``GET`` with no side effects: what it
  writes to the session is undone (a notice shown once stays unshown, a factor chosen stays
  unchosen), what it writes to the database is rolled back (sync views: the site's database
  and the one otpgate's models are routed to), and the body is dropped (``Content-Length``
  stays the ``GET``'s). Where ``GET`` is not allowed, ``HEAD`` is 405 with ``Allow``;
- any other method goes to the view, which answers it as before.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import wraps
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase

View = Callable[..., Any]


class _Rollback(Exception):
    """Raised inside the HEAD's transaction to undo what its GET wrote."""


def allow_of(methods: tuple[str, ...]) -> list[str]:
    """The ``Allow`` list of a view answering ``methods``: HEAD wherever GET is, OPTIONS."""
    allowed = [method.upper() for method in methods]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return [*allowed, "OPTIONS"]


def _options(allow: list[str]) -> HttpResponse:
    response = HttpResponse(status=200)
    response["Allow"] = ", ".join(allow)
    response["Content-Length"] = "0"
    response["Cache-Control"] = "no-store"
    del response["Content-Type"]
    return response


def _bodiless(response: HttpResponseBase) -> HttpResponseBase:
    """``response`` with its body dropped, as HEAD's answer (headers kept)."""
    if isinstance(response, HttpResponse):
        length = len(response.content)
        response.content = b""
        response["Content-Length"] = str(length)
    return response


Saved = tuple[dict[str, Any], bool] | None


def _saved(request: HttpRequest) -> Saved:
    """The session as it is (and whether it was already changed), before a HEAD's GET."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    return dict(session.items()), bool(session.modified)


def _restored(request: HttpRequest, saved: Saved) -> None:
    """Put back the session a HEAD's GET changed."""
    session = getattr(request, "session", None)
    if session is None or saved is None:
        return
    items, modified = saved
    if dict(session.items()) != items:
        session.clear()
        session.update(items)
        session.modified = modified


def _rolled_back() -> ExitStack:
    """A transaction on the site's database and on the one otpgate's models are routed to
    (one if they are the same): leaving it by :class:`_Rollback` undoes what the view wrote."""
    from .models import TotpDevice

    stack = ExitStack()
    for alias in sorted({DEFAULT_DB_ALIAS, router.db_for_write(TotpDevice) or DEFAULT_DB_ALIAS}):
        stack.enter_context(transaction.atomic(using=alias))
    return stack


def answering(*methods: str) -> Callable[[View], View]:
    """Wrap a view (sync or async) that answers ``methods`` (see the module's docs)."""
    allow = allow_of(methods)
    gets = "GET" in allow

    def decorate(view: View) -> View:
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_answering(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                if request.method == "OPTIONS":
                    return _options(allow)
                if request.method != "HEAD":
                    return await view(request, *args, **kwargs)
                if not gets:
                    return HttpResponseNotAllowed(allow)
                saved = await sync_to_async(_saved)(request)
                request.method = "GET"
                try:
                    response = await view(request, *args, **kwargs)
                finally:
                    request.method = "HEAD"
                    await sync_to_async(_restored)(request, saved)
                return _bodiless(response)

            return async_answering

        @wraps(view)
        def sync_answering(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method == "OPTIONS":
                return _options(allow)
            if request.method != "HEAD":
                return view(request, *args, **kwargs)
            if not gets:
                return HttpResponseNotAllowed(allow)
            answer: list[Any] = []
            saved = _saved(request)
            request.method = "GET"
            try:
                with _rolled_back():
                    answer.append(view(request, *args, **kwargs))
                    raise _Rollback
            except _Rollback:
                pass
            finally:
                request.method = "HEAD"
                _restored(request, saved)
            return _bodiless(answer[0])

        return sync_answering

    return decorate
