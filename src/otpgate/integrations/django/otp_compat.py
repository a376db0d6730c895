"""django-otp compatibility: ``request.user.is_verified()`` and ``request.user.otp_device``.

Apps built on django-otp (``OTPAdminSite``, ``django_otp.decorators.otp_required``,
``django-two-factor-auth``'s mixins, your own ``if request.user.is_verified()``) ask the user
object whether this session passed a second factor. ``OtpgateMiddleware`` answers them the way
django-otp's ``OTPMiddleware`` does: it wraps ``request.user`` (and ``request.auser``) so that
the user has

- ``is_verified()``: True once this session passed otpgate's second factor (read from the
  session when called, so it is also true right after the second step of this request);
- ``otp_device``: an :class:`OtpgateDevice` naming the factor that passed and when, or None.

django-otp need not be installed. If it is and ``django_otp.middleware.OTPMiddleware`` is in
``MIDDLEWARE``, put ``OtpgateMiddleware`` *after* it (its wrapper would otherwise replace
otpgate's answer by its own: verified only by a django-otp device); ``manage.py check`` says
so (``otpgate.E020``). A device django-otp verified (``django_otp.login``) still counts where
``OTPMiddleware`` comes first: otpgate only turns a False into a True, never the reverse.
A custom user model with its own ``is_verified`` (or ``otp_device``) field keeps it: otpgate
does not annotate such users.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .session import SessionData


@dataclass(frozen=True)
class OtpgateDevice:
    """What ``request.user.otp_device`` is once otpgate's second factor passed: not a
    django-otp ``Device`` model (nothing to verify a token with), but it names the factor
    (``sms``, ``totp``, ``recovery``, ...) and when it passed (Unix time)."""

    factor: str
    verified_at: float

    @property
    def name(self) -> str:
        return self.factor

    @property
    def persistent_id(self) -> str:
        """An identifier in django-otp's ``app_label.ModelName/id`` shape, never a model's."""
        return f"otpgate.{self.factor}/session"

    @property
    def confirmed(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"otpgate {self.factor}"


def passed_device(request: HttpRequest, user: Any) -> OtpgateDevice | None:
    """The factor this request's session passed for ``user``, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    session = getattr(request, "session", None)
    if session is None:
        return None
    state = SessionData(session).state
    if not state.has_passed(str(user.pk)):
        return None
    return OtpgateDevice(state.verified_factor, state.verified_at)


def _is_field(user: Any, name: str) -> bool:
    """True if ``user``'s model has a field ``name`` (e.g. an e-mail ``is_verified`` flag):
    asked once per model class (a lazy user's ``__class__`` is its model's; a model's fields
    are fixed once the apps are loaded), else of the object itself."""
    model = user.__class__
    if getattr(model, "_meta", None) is not None:
        return _model_has_field(model, name)
    return _has_field(getattr(user, "_meta", None), name)


@functools.lru_cache(maxsize=64)
def _model_has_field(model: type, name: str) -> bool:
    return _has_field(getattr(model, "_meta", None), name)


def _has_field(meta: Any, name: str) -> bool:
    try:
        return meta is not None and meta.get_field(name) is not None
    except FieldDoesNotExist:
        return False


def annotate(request: HttpRequest, user: Any) -> Any:
    """Give ``user`` django-otp's ``is_verified()`` and ``otp_device``, answered by otpgate
    (keeping a True that django-otp's own middleware gave it first). A user model with a
    field of either name (an e-mail ``is_verified`` flag, say) is left as it is."""
    if user is None or _is_field(user, "is_verified") or _is_field(user, "otp_device"):
        return user
    earlier = getattr(user, "is_verified", None)
    earlier_device = getattr(user, "otp_device", None)

    def is_verified() -> bool:
        if passed_device(request, user) is not None:
            return True
        return bool(callable(earlier) and earlier())

    device = passed_device(request, user)
    user.otp_device = device if device is not None else earlier_device
    user.is_verified = is_verified
    return user


def install(request: HttpRequest) -> None:
    """Wrap ``request.user`` and ``request.auser`` (lazily, as ``OTPMiddleware`` does)."""
    user = getattr(request, "user", None)
    if user is not None:
        request.user = SimpleLazyObject(  # type: ignore[assignment]
            functools.partial(annotate, request, user)
        )
    auser: Callable[[], Awaitable[Any]] | None = getattr(request, "auser", None)
    if auser is not None:

        async def annotated_auser() -> Any:
            from asgiref.sync import sync_to_async

            found = await auser()
            return await sync_to_async(annotate)(request, found)

        request.auser = annotated_auser
