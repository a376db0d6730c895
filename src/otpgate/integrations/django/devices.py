"""Remembered devices in Django: the cookie, the sign-in shortcut and the hooks.

With ``OTPGATE_REMEMBER_DEVICE = True`` the second step of a sign-in shows "Don't ask again
on this device for N days". Ticked, the passed step sets the ``otpgate_device`` cookie
(``set_signed_cookie``: signed with ``SECRET_KEY``; HttpOnly, Secure when the request is,
SameSite=Lax) holding the device token, whose secret the database keeps only as a keyed
digest. :func:`~otpgate.integrations.django.begin_second_step` then logs the user in without
the second step while the device is valid for them (through django-allauth, its login stage
lets allauth's sign-in go on): at sign-in only, never for step-up or a
transaction. The device is bound to the user's factors and to
``user.get_session_auth_hash()``: changing a factor or the password voids it (as it signs
out other sessions), and so does :func:`forget_devices` (call it to sign out everywhere).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.contrib import auth
from django.http import HttpRequest, HttpResponse

from otpgate.core.aio import AsyncVerifier
from otpgate.core.errors import OtpgateError
from otpgate.core.verifier import Verifier

from . import runtime
from .session import SessionData, client_ip

#: The cookie holding a remembered device's token.
COOKIE = "otpgate_device"
_SALT = "otpgate.device"


def stamp(user: Any) -> str:
    """What changes when the user's password does: Django's session auth hash."""
    get_hash = getattr(user, "get_session_auth_hash", None)
    return str(get_hash()) if callable(get_hash) else ""


def cookie_token(request: HttpRequest, gate: Verifier) -> str | None:
    """The token of this request's device cookie, if its signature and age hold."""
    max_age = gate.devices.days * 86400
    value = request.get_signed_cookie(COOKIE, default=None, salt=_SALT, max_age=max_age)
    return value if isinstance(value, str) else None


def wants_remembering(
    request: HttpRequest, gate: Verifier | AsyncVerifier, purpose: str, ticked: object = None
) -> bool:
    """The second step's box is ticked (a sign-in's only, with the feature on); ``ticked``:
    the JSON API's ``remember_device`` (else the form field)."""
    if ticked is None:
        ticked = request.POST.get("remember_device")
    return purpose == "login" and ticked in ("1", "on", "true", True) and gate.devices.enabled


def remember(request: HttpRequest, response: HttpResponse, gate: Verifier, user: Any) -> None:
    """Remember this device for ``user``; set its cookie on ``response``. A database outage
    leaves the user signed in, only not remembered."""
    with suppress(OtpgateError):
        token = gate.devices.remember(
            str(user.pk),
            stamp=stamp(user),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            client_ip=client_ip(request),
        )
        set_cookie(request, response, token, gate.devices.days)


async def aremember(request: HttpRequest, gate: AsyncVerifier, user: Any) -> str | None:
    """:func:`remember` for the async JSON API: the token (set it with :func:`set_cookie`),
    or None if the database failed."""
    try:
        return await gate.devices.remember(
            str(user.pk),
            stamp=stamp(user),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            client_ip=client_ip(request),
        )
    except OtpgateError:
        return None


def set_cookie(request: HttpRequest, response: HttpResponse, token: str, days: int) -> None:
    """The device cookie: signed, HttpOnly, Secure when the request is, SameSite=Lax."""
    response.set_signed_cookie(
        COOKIE,
        token,
        salt=_SALT,
        max_age=days * 86400,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def is_remembered(request: HttpRequest, gate: Verifier, user: Any) -> bool:
    """Whether this device is remembered for ``user`` at sign-in (a database or store
    error: not remembered, the second step asks as usual)."""
    if not gate.devices.enabled:
        return False
    try:
        return gate.devices.check(
            cookie_token(request, gate), str(user.pk), purpose="login", stamp=stamp(user)
        )
    except OtpgateError:
        return False


def mark_remembered(request: HttpRequest, gate: Verifier, user: Any) -> None:
    """Record in the session that a remembered device passed ``user``'s second step (the
    login that follows, Django's or a hand-off's, keeps the session's data)."""
    data = SessionData(request.session)
    data.state.remembered(str(user.pk), gate.clock())
    data.extra = {}
    data.save()


def sign_in_remembered(request: HttpRequest, gate: Verifier, user: Any, backend: str) -> bool:
    """Log ``user`` in without the second step if this device is remembered for them (a
    database or store error: not remembered, the second step asks as usual)."""
    if not is_remembered(request, gate, user):
        return False
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        auth.logout(request)
    auth.login(request, user, backend=backend)  # rotates the session id
    mark_remembered(request, gate, user)
    return True


def forget_devices(user: Any) -> int:
    """Void every remembered device of ``user`` (sign out everywhere; a password change
    voids them on its own). Returns how many there were."""
    gate = runtime.get_verifier()
    return gate.devices.revoke_all(str(user.pk), reason="credentials_changed")
