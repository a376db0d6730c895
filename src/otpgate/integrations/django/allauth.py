"""django-allauth sign-in with otpgate's second step, through allauth's login stages.

allauth (65 and later) signs a user in by running its *login stages* (email verification,
login by code, its own MFA, ...) once the password or the social account has identified the
user, and only then calls its adapter's ``login`` and ``post_login``. otpgate adds one stage,
:class:`SecondStepStage`, listed by the account adapter's ``get_login_stages``::

    ACCOUNT_ADAPTER = "otpgate.integrations.django.allauth.OtpgateAccountAdapter"

    # or, with an adapter of the site's own:
    class AccountAdapter(OtpgateAdapterMixin, DefaultAccountAdapter): ...

The stage holds a user who has a second factor in otpgate's second step (``otpgate:verify``,
the same page and session state as ``OtpLoginView``); the session stays anonymous. When the
factor passes, allauth's sign-in resumes: its remaining stages, then its own login (the
session id rotates), ``user_logged_in``, its "Signed in" message, its redirect (``next`` or
``LOGIN_REDIRECT_URL``), the "Remember me" choice. A user without a factor for sign-in goes
straight on. Password and social-account sign-ins go through the same stages, so both get
the second step. "Cancel" on the second step signs the half-signed-in session out.

Not covered: allauth's headless (API) mode, whose clients cannot show otpgate's page.
Installing ``allauth.mfa`` too is reported by the system check ``otpgate.W006``.
"""

from __future__ import annotations

from typing import Any

try:
    from allauth.account.adapter import DefaultAccountAdapter
    from allauth.account.stages import LoginStage, LoginStageController
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "otpgate.integrations.django.allauth needs django-allauth; install it with: "
        'pip install "otpgate[allauth]"'
    ) from error

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse

from .login import hold_for_second_step
from .session import SessionData, default_next
from .session import next_url as safe_next_url

#: The stage's key in allauth's login state, and its dotted path for ``get_login_stages``.
STAGE_KEY = "otpgate_second_step"
STAGE = "otpgate.integrations.django.allauth.SecondStepStage"
#: The name under which the session remembers that allauth finishes the sign-in.
HANDOFF = "allauth"
#: allauth's own backend, preferred to load the pending user again (as allauth's ``login``).
ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def login_backend() -> str:
    """The backend that loads the pending user: allauth's if installed, else the first."""
    backends = list(django_settings.AUTHENTICATION_BACKENDS)
    return ALLAUTH_BACKEND if ALLAUTH_BACKEND in backends else backends[0]


class SecondStepStage(LoginStage):
    """allauth login stage: otpgate's second step for users who have a factor."""

    key = STAGE_KEY
    urlname = "otpgate:verify"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        """Hold the sign-in for the second step (the redirect to it), or go on."""
        user = self.login.user
        if user is None:
            return None, True
        target = safe_next_url(self.request, self.login.redirect_url or default_next())
        backend = getattr(user, "backend", None) or login_backend()
        response = hold_for_second_step(self.request, user, target, backend, handoff=HANDOFF)
        return response, True

    def is_resumable(self, request: HttpRequest) -> bool:
        """allauth's login page sends a user back here only while the step is pending."""
        return bool(SessionData(request.session).state.pending_subject)


class OtpgateAdapterMixin:
    """Mix into the site's account adapter: otpgate's stage runs after allauth's own."""

    def get_login_stages(self) -> list[str]:
        stages: list[str] = list(super().get_login_stages())  # type: ignore[misc]
        return [*(s for s in stages if s != STAGE), STAGE]


class OtpgateAccountAdapter(OtpgateAdapterMixin, DefaultAccountAdapter):
    """allauth's default account adapter with otpgate's second step."""


def finish(request: HttpRequest, user: Any) -> HttpResponse | None:
    """The second factor passed: resume allauth's sign-in (its later stages, its login and
    post-login, its redirect). None if allauth no longer holds it (``ACCOUNT_LOGIN_TIMEOUT``)
    or it is another user's."""
    stage = LoginStageController.enter(request, STAGE_KEY)
    if stage is None or stage.login.user is None or stage.login.user.pk != user.pk:
        return None
    response: HttpResponse = stage.exit()
    return response


def abandon(request: HttpRequest) -> None:
    """Forget allauth's held sign-in (the second step was left or timed out)."""
    stage = LoginStageController.enter(request, STAGE_KEY)
    if stage is not None:
        stage.abort()  # allauth's own clean-up; its redirect is not used


__all__ = [
    "STAGE",
    "OtpgateAccountAdapter",
    "OtpgateAdapterMixin",
    "SecondStepStage",
    "abandon",
    "finish",
]
