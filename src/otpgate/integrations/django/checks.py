"""System checks (``manage.py check``, and before ``runserver``/``migrate``), tag ``otpgate``.

otpgate.E001  OTPGATE_SECRET_KEYS missing
otpgate.E002  a core setting is invalid (the message names the setting)
otpgate.E003  an integration setting is invalid (OTPGATE_STORE, OTPGATE_REQUIRED, ...)
otpgate.E004  OTPGATE_SENDER cannot be imported
otpgate.E005  OTPGATE_STORE is a Redis URL but ``otpgate.redis``/redis-py is missing
otpgate.E006  OtpgateMiddleware comes before SessionMiddleware or AuthenticationMiddleware
otpgate.E007  the Redis store does not answer
otpgate.E008  OTPGATE_EMAIL_SENDER cannot be imported, or "smtp" lacks OTPGATE_SMTP_* keys
otpgate.E009  OTPGATE_BASE_TEMPLATE cannot be loaded or lacks a block otpgate's pages fill
              (title, extra_head, content: :mod:`otpgate.integrations.django.layout`)
otpgate.E020  django-otp's OTPMiddleware comes after OtpgateMiddleware (it would replace
              ``request.user.is_verified()`` by its own, blind to otpgate's second factor)
otpgate.W001  OtpgateMiddleware is not installed: nothing enforces the second step
otpgate.W002  CsrfViewMiddleware is not installed: otpgate's views check CSRF themselves,
              the site's own state-changing views are left unprotected
otpgate.W003  the in-memory store (OTPGATE_STORE = "memory", the default) outside DEBUG and
              tests: challenges, budgets and lockouts live in one process (silence it with
              SILENCED_SYSTEM_CHECKS = ["otpgate.W003"] only for a single-process deployment)
otpgate.W004  OTPGATE_DATABASE_URL is set but unused: Django keeps factors in DATABASES
otpgate.W005  an old setting name (OTPGATE_REDIS_URL): rename it (the message names the new one)
otpgate.W006  allauth.mfa is installed beside otpgate's allauth stage: two second steps
otpgate.W007  allauth.account is installed but its adapter does not run otpgate's stage: allauth
              signs users in before the second step (the middleware then asks for it)
otpgate.W008  the site's copy of otpgate/recovery.html has no one-time token (``once``): its
              form would make no new recovery codes
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core import checks

from otpgate.core import wiring
from otpgate.core.errors import ConfigurationError

from . import conf, layout
from .checks_store import check_redis as check_redis
from .checks_store import check_wiring as check_wiring
from .checks_store import in_tests as in_tests

MIDDLEWARE = "otpgate.integrations.django.middleware.OtpgateMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
DJANGO_OTP = "django_otp.middleware.OTPMiddleware"


def register() -> None:
    checks.register(check_settings, "otpgate")
    checks.register(check_middleware, "otpgate")
    checks.register(check_redis, "otpgate")
    checks.register(check_wiring, "otpgate")
    checks.register(check_allauth, "otpgate")
    checks.register(layout.check_base_template, "otpgate", "templates")
    checks.register(layout.check_recovery_template, "otpgate", "templates")


def setting_name(error: ConfigurationError) -> str:
    """``code_digits`` → ``OTPGATE_CODE_DIGITS``; ``OTPGATE_X`` stays."""
    name = error.setting
    return name if name.startswith("OTPGATE_") else "OTPGATE_" + name.upper()


def _error(error: ConfigurationError, check_id: str) -> checks.Error:
    name = setting_name(error)
    problem = str(error.message).split(": ", 1)[-1]
    return checks.Error(f"{name}: {problem}", obj=name, id=check_id)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    if not getattr(django_settings, "OTPGATE_SECRET_KEYS", None):
        found.append(
            checks.Error(
                "OTPGATE_SECRET_KEYS is not set: otpgate cannot seal secrets or digest codes.",
                hint="Run `otpgate keygen` and set OTPGATE_SECRET_KEYS = [that key], read "
                "from the environment; keep old keys after a new one when rotating.",
                obj="OTPGATE_SECRET_KEYS",
                id="otpgate.E001",
            )
        )
    else:
        try:
            conf.core_settings()
        except ConfigurationError as error:
            found.append(_error(error, "otpgate.E002"))
    try:
        options = conf.options()
    except ConfigurationError as error:
        found.append(_error(error, "otpgate.E003"))
        return found
    sender = options.sender
    if isinstance(sender, str) and sender not in {"console", "outbox"}:
        try:
            wiring.import_path(sender)
        except ImportError as error:
            found.append(
                checks.Error(
                    f"OTPGATE_SENDER: cannot import {sender!r} ({error}).",
                    obj="OTPGATE_SENDER",
                    id="otpgate.E004",
                )
            )
    found.extend(_check_email_sender(options))
    if options.uses_redis:
        try:
            import otpgate.redis  # noqa: F401
        except ImportError as error:
            found.append(
                checks.Error(
                    f"OTPGATE_STORE is a Redis URL, but otpgate.redis cannot be imported "
                    f"({error}).",
                    hint='pip install "otpgate[redis]"',
                    obj="OTPGATE_STORE",
                    id="otpgate.E005",
                )
            )
    return found


def _check_email_sender(options: conf.Options) -> list[checks.CheckMessage]:
    """E008: ``"smtp"`` with a bad or missing ``OTPGATE_SMTP_*`` key, or a path that cannot
    be imported (nothing is connected to, nothing is built but the configuration)."""
    value = options.wiring.email_sender
    try:
        if value == "smtp":
            wiring.smtp_config(options.wiring.smtp)
        elif isinstance(value, str) and value not in {"console", "outbox"}:
            wiring.import_path(value)
    except (ConfigurationError, ImportError) as error:
        problem = str(error)
        return [
            checks.Error(
                f"OTPGATE_EMAIL_SENDER: {problem}",
                obj="OTPGATE_EMAIL_SENDER",
                id="otpgate.E008",
            )
        ]
    return []


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    middleware = list(getattr(django_settings, "MIDDLEWARE", None) or [])
    found: list[checks.CheckMessage] = []
    if CSRF not in middleware:
        found.append(
            checks.Warning(
                "CsrfViewMiddleware is not installed: otpgate's pages and JSON API check CSRF "
                "themselves, but the site's own forms are unprotected. Add "
                "'django.middleware.csrf.CsrfViewMiddleware' to MIDDLEWARE.",
                obj="MIDDLEWARE",
                id="otpgate.W002",
            )
        )
    if MIDDLEWARE not in middleware:
        found.append(
            checks.Warning(
                "OtpgateMiddleware is not in MIDDLEWARE: sessions that skipped the second step "
                "(e.g. through the admin's login) are not stopped, and OTPGATE_REQUIRED is "
                "not enforced.",
                hint=f"Add {MIDDLEWARE!r} after {AUTH!r}.",
                obj="MIDDLEWARE",
                id="otpgate.W001",
            )
        )
        return found
    position = middleware.index(MIDDLEWARE)
    for needed in (SESSION, AUTH):
        if needed not in middleware or middleware.index(needed) > position:
            found.append(
                checks.Error(
                    f"OtpgateMiddleware must come after {needed.rsplit('.', 1)[-1]}.",
                    hint=f"Put {MIDDLEWARE!r} after {needed!r} in MIDDLEWARE.",
                    obj="MIDDLEWARE",
                    id="otpgate.E006",
                )
            )
    if DJANGO_OTP in middleware and middleware.index(DJANGO_OTP) > position:
        found.append(
            checks.Error(
                "django-otp's OTPMiddleware comes after OtpgateMiddleware: it would replace "
                "request.user.is_verified() by its own, which ignores otpgate's second factor.",
                hint=f"Put {MIDDLEWARE!r} after {DJANGO_OTP!r} in MIDDLEWARE.",
                obj="MIDDLEWARE",
                id="otpgate.E020",
            )
        )
    return found


def check_allauth(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """django-allauth: otpgate's login stage is in its adapter's stages, alone."""
    from django.apps import apps

    if not apps.is_installed("allauth.account"):
        return []
    from allauth.account.adapter import get_adapter

    from .allauth import STAGE

    stages = get_adapter().get_login_stages()
    if STAGE not in stages:
        return [
            checks.Warning(
                "django-allauth signs users in without otpgate's second step: its account "
                "adapter does not list otpgate's login stage. Users with a factor are logged in "
                "by allauth first and only then sent to the second step by the middleware.",
                hint='Set ACCOUNT_ADAPTER = "otpgate.integrations.django.allauth.'
                'OtpgateAccountAdapter", or mix OtpgateAdapterMixin into your own adapter.',
                obj="ACCOUNT_ADAPTER",
                id="otpgate.W007",
            )
        ]
    if apps.is_installed("allauth.mfa"):
        return [
            checks.Warning(
                "allauth.mfa and otpgate's allauth stage are both installed: a user with "
                "factors in both is asked for two second steps, and the authenticators, "
                "recovery codes and passkeys allauth.mfa manages are unknown to otpgate (its "
                "middleware, step-up and transaction confirmation never use them).",
                hint='Keep one: remove "allauth.mfa" from INSTALLED_APPS (and its URLs), or '
                "remove otpgate's stage from the account adapter.",
                obj="INSTALLED_APPS",
                id="otpgate.W006",
            )
        ]
    return []
