"""Enforcement, like Keycloak's required actions: no password-only session reaches a view.

Place ``OtpgateMiddleware`` after ``SessionMiddleware`` and ``AuthenticationMiddleware``.
For each request of a logged-in user whose session has not passed a second factor:

- the user has a factor (logged in by the admin's or a custom login view, not through the
  second step): redirect to the second step (``otpgate:verify``);
- the user has none and ``OTPGATE_REQUIRED`` covers them: redirect to enrollment
  (``otpgate:manage``);
- otherwise (optional 2FA, no factor): let the request through, and remember that in the
  session for ``OTPGATE_FACTOR_RECHECK`` seconds so that ordinary pages cost no database
  query (see ``guard.py`` for how factor changes void that memory).

Exempt, so there is never a redirect loop: the otpgate pages, ``login``/``logout`` (also the
admin's), ``LOGIN_URL``, ``STATIC_URL``, ``MEDIA_URL`` and ``OTPGATE_EXEMPT_URLS``. API clients
(JSON) get a 401/403 problem body instead of a redirect. Works under WSGI and ASGI.

It also gives ``request.user`` django-otp's ``is_verified()`` and ``otp_device``, so apps built
on django-otp see otpgate's second factor (see ``otp_compat.py``; put it after django-otp's
``OTPMiddleware`` if both are installed).

It also records how each view that executed a confirmed transaction answered (see
``executions.py``): executed, or failed and retryable with the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import Resolver404, get_script_prefix, get_urlconf, resolve, reverse

from otpgate.core.errors import EnrollmentRequired, OtpRequired

from . import conf, guard, otp_compat, policy, runtime
from .errors import problem, wants_json
from .executions import settle_request
from .session import SessionData

EXEMPT_NAMES = frozenset(
    {"login", "logout", "admin:login", "admin:logout", "set_language", "javascript-catalog"}
)
VERIFY, ENROLL = "otpgate:verify", "otpgate:manage"


class OtpgateMiddleware:
    """Blocks sessions that must pass or set up a second factor first (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        otp_compat.install(request)
        if is_exempt(request):
            response = self.get_response(request)
        else:
            response = self._decide(request) or self.get_response(request)
        settle_request(request, response.status_code)  # transactions the view executed
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        otp_compat.install(request)
        if is_exempt(request):
            response = await get_response(request)
        else:
            # Session and user loading are synchronous (database) on every Django version.
            blocked = await sync_to_async(self._decide)(request)
            response = blocked or await get_response(request)
        await sync_to_async(settle_request)(request, response.status_code)
        return response

    def _decide(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        subject = str(user.pk)
        session = request.session
        if SessionData(session).state.has_passed(subject):
            return None
        now, recheck = runtime.now(), runtime.options().factor_recheck
        if guard.lets_through(session, subject, now, recheck):
            return None
        if policy.has_factor(subject):
            guard.forget(session)
            return blocked(request, VERIFY)
        if policy.is_required(user, runtime.options().required):
            guard.forget(session)
            return blocked(request, ENROLL)
        guard.remember(session, subject, now, recheck)
        return None


def blocked(request: HttpRequest, target: str) -> HttpResponse:
    """Send the request to ``target`` (with ``next``), or a problem body for API clients."""
    if wants_json(request):
        error = EnrollmentRequired() if target == ENROLL else OtpRequired()
        return problem(error, request)
    url = reverse(target)
    if request.method in {"GET", "HEAD"}:
        url += "?" + urlencode({"next": request.get_full_path()})
    response = HttpResponseRedirect(url)
    if request.method not in {"GET", "HEAD"}:
        response.status_code = 303
    return response


_Exempt = tuple[tuple[str, ...], frozenset[str], frozenset[str]]
#: The exempt paths per URLconf and script prefix (``resolve_url`` of ``LOGIN_URL`` may try a
#: ``reverse`` that fails: done once, not on every request), and each path's answer (a URL
#: resolved once, not twice per request). Both are worked out from the settings, so any
#: settings change (``setting_changed``: ``override_settings`` in tests) drops them.
_exempt_cache: dict[tuple[object, ...], _Exempt] = {}
_path_cache: dict[tuple[object, ...], bool] = {}
#: Paths whose answer is kept (past it the cache starts over: any path, bounded memory).
PATHS_KEPT = 2048


def forget_exempt(**kwargs: object) -> None:
    """Drop the worked-out exempt paths (``setting_changed``)."""
    _exempt_cache.clear()
    _path_cache.clear()


setting_changed.connect(forget_exempt, dispatch_uid="otpgate-exempt-paths")


def _exempt_paths() -> _Exempt:
    key = (get_urlconf(), get_script_prefix())
    found = _exempt_cache.get(key)
    if found is None:
        found = _exempt_paths_of(runtime.options())
        _exempt_cache.clear()
        _exempt_cache[key] = found
    return found


def _exempt_paths_of(options: conf.Options) -> _Exempt:
    prefixes = [getattr(django_settings, name, None) for name in ("STATIC_URL", "MEDIA_URL")]
    extra = options.exempt_urls
    prefixes += [item for item in extra if item.startswith("/")]
    clean = tuple(p for p in prefixes if isinstance(p, str) and p.startswith("/") and p != "/")
    names = EXEMPT_NAMES | {item for item in extra if not item.startswith("/")}
    exact = {resolve_url(django_settings.LOGIN_URL)}
    return clean, frozenset(names), frozenset(exact)


def is_exempt(request: HttpRequest) -> bool:
    """True for URLs every session may reach (login, logout, static files, otpgate pages)."""
    urlconf = getattr(request, "urlconf", None)
    key = (urlconf, get_urlconf(), get_script_prefix(), request.path_info)
    found = _path_cache.get(key)
    if found is None:
        found = _is_exempt(request.path_info, urlconf)
        if len(_path_cache) >= PATHS_KEPT:
            _path_cache.clear()
        _path_cache[key] = found
    return found


def _is_exempt(path: str, urlconf: object) -> bool:
    prefixes, names, exact = _exempt_paths()
    if path in exact or any(path.startswith(prefix) for prefix in prefixes):
        return True
    try:
        match = resolve(path, urlconf)  # type: ignore[arg-type]
    except Resolver404:
        return False
    return "otpgate" in match.app_names or match.view_name in names
