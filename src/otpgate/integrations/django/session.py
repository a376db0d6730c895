"""What a session remembers of the second step, and who the request is acting for.

The core's :class:`~otpgate.SecondFactorState` lives under ``otpgate`` (with the pending
user's auth backend and the chosen method); what only this integration keeps (a number being
enrolled, pending transaction confirmations, an error to show after the login redirect) under
``otpgate.django``.

A request acts for one of:

- a **pending** subject: the password step passed, ``request.user`` is still anonymous;
- an **unverified** user: logged in by some other path (admin login, ``force_login``) whose
  session never passed a second factor; the middleware confines it to the second step;
- a **verified** user: this session passed a second factor (maybe too long ago for step-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import global_settings
from django.conf import settings as django_settings
from django.contrib import auth
from django.contrib.auth import load_backend
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from otpgate.core.challenge import Verification
from otpgate.core.web import SESSION_KEY, SecondFactorState, safe_next

from . import signals

EXTRA_KEY = "otpgate.django"
PENDING, UNVERIFIED, VERIFIED = "pending", "unverified", "verified"


class SessionData:
    """The core's state and this integration's extras, read from and written to a session."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.state = SecondFactorState.load(session)
        raw = session.get(EXTRA_KEY)
        self.extra: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}

    def save(self) -> None:
        self.session[SESSION_KEY] = self.state.dump()
        self.session[EXTRA_KEY] = self.extra

    def text(self, key: str) -> str:
        value = self.extra.get(key)
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Actor:
    subject: str
    mode: str
    user: Any = None

    @property
    def purpose(self) -> str:
        """The purpose of an SMS challenge for this actor's second step."""
        return "action" if self.mode == VERIFIED else "login"


def actor_of(request: HttpRequest, data: SessionData, now: float, ttl: float) -> Actor | None:
    """Who this request acts for (``request.user`` must be loaded already), or None."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        subject = str(user.pk)
        return Actor(subject, VERIFIED if data.state.has_passed(subject) else UNVERIFIED, user)
    pending = data.state.pending(now, ttl)
    return Actor(pending, PENDING) if pending else None


def locale_of(request: HttpRequest) -> str:
    """The active language (``LocaleMiddleware``), e.g. ``zh-hans``."""
    return translation.get_language() or django_settings.LANGUAGE_CODE


def client_ip(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR`` (behind a proxy, set it from the proxy's header in a middleware)."""
    value = request.META.get("REMOTE_ADDR")
    return value[:64] if isinstance(value, str) and value else None


def default_next() -> str:
    """Where a user goes with no ``?next=``: ``LOGIN_REDIRECT_URL``, unless it is Django's
    default (``/accounts/profile/``) and this site has no such page; then otpgate's own
    manage page (``otpgate:manage``), which always exists, rather than a 404."""
    configured = django_settings.LOGIN_REDIRECT_URL
    if configured == global_settings.LOGIN_REDIRECT_URL:
        try:
            resolve(configured)
        except Resolver404:
            return reverse("otpgate:manage")
    return resolve_url(configured)


def next_url(request: HttpRequest, candidate: object) -> str:
    """``candidate`` if it stays on this host, else ``LOGIN_REDIRECT_URL`` (worked out only
    then: resolving it may try a URL pattern and fail, on every request)."""
    return safe_next(candidate, request.get_host(), fallback="") or default_next()


def pending_user(data: SessionData, subject: str) -> Any:
    """The user waiting for the second step, through the backend that authenticated it
    (None if that backend is gone or refuses the user now, e.g. deactivated)."""
    backend = data.state.pending_backend
    if backend not in django_settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend).get_user(subject)
    if user is not None:
        user.backend = backend
    return user


#: Who finishes a pending sign-in once its second factor passed, by the name the password
#: step gave (``SessionData.extra["handoff"]``): none logs the user in with ``auth.login``;
#: ``"allauth"`` hands back to django-allauth's login stages (``allauth.py``). A module here
#: has ``finish(request, user)`` (the response, None if the sign-in cannot resume) and
#: ``abandon(request)``.
HANDOFFS = {"allauth": "otpgate.integrations.django.allauth"}


def _handoff(data: SessionData) -> Any:
    name = data.extra.get("handoff")
    if not isinstance(name, str) or name not in HANDOFFS:
        return None
    from importlib import import_module

    return import_module(HANDOFFS[name])


def log_in(request: HttpRequest, data: SessionData, user: Any, target: str) -> HttpResponse | None:
    """Sign the pending ``user`` in and answer with where to go: ``auth.login`` (it rotates
    the session id) then ``target``, or the hand-off the password step named (allauth: its
    remaining login stages, its own login and post-login, its redirect). None: the sign-in
    cannot resume (the hand-off's own state expired); the caller starts over."""
    handoff = _handoff(data)
    if handoff is None:
        auth.login(request, user, backend=user.backend)
        return HttpResponseRedirect(target)
    response: HttpResponse | None = handoff.finish(request, user)
    return response


def abandon(request: HttpRequest, data: SessionData) -> None:
    """Forget a pending sign-in (and the hand-off's own state of it)."""
    handoff = _handoff(data)
    if handoff is not None:
        handoff.abandon(request)
    data.state = SecondFactorState()
    data.extra = {}
    data.save()


def signed_in(request: HttpRequest, actor: Actor) -> Any:
    """The user a passed step was for, after :func:`complete`: a step-up's own user, or the
    one a sign-in just logged in (``auth.login`` set ``request.user``)."""
    if actor.mode != PENDING and actor.user is not None:
        return actor.user
    return getattr(request, "user", None)


def complete(
    request: HttpRequest, data: SessionData, actor: Actor, verification: Verification, target: str
) -> HttpResponse | None:
    """The second factor passed: log a pending user in (:func:`log_in`: ``auth.login`` or
    the password step's hand-off), rotate the session id, remember when. Returns the response
    (the redirect to ``target``, or the hand-off's), or None if the pending user can no
    longer sign in."""
    user = actor.user
    response: HttpResponse | None = HttpResponseRedirect(target)
    if actor.mode == PENDING:
        user = pending_user(data, actor.subject)
        if user is None:
            abandon(request, data)
            return None
        data.state.passed(verification)  # before a hand-off: its own login keeps the session
        data.extra.pop("notice_error", None)
        data.save()
        response = log_in(request, data, user, target)
        if response is None:
            abandon(request, data)
            return None
        data = SessionData(request.session)  # as the login left it
        data.extra.pop("handoff", None)
    else:
        request.session.cycle_key()
    data.state.passed(verification)
    data.extra.pop("notice_error", None)
    data.save()
    from .otp_compat import annotate

    annotate(request, user)  # django-otp's is_verified() for the rest of this request
    signals.passed(request, user, verification)
    return response
