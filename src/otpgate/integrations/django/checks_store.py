"""The deployment checks: where challenges and factors live (``otpgate.W003`` the in-memory
store outside DEBUG and tests, ``otpgate.W004`` an unused ``OTPGATE_DATABASE_URL``,
``otpgate.W005`` an old setting name) and whether the Redis store answers (``otpgate.E007``).
:mod:`otpgate.integrations.django.checks` registers them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core import checks

from otpgate.core import wiring
from otpgate.core.errors import ConfigurationError

from . import conf


def in_tests() -> bool:
    """Django's test environment is set up (``manage.py test``, pytest-django): it gives
    ``django.core.mail`` its ``outbox``."""
    from django.core import mail

    return hasattr(mail, "outbox")


def check_wiring(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The in-memory store in production, an unused database URL, old setting names."""
    try:
        options = conf.options()
    except ConfigurationError:
        return []  # reported by check_settings
    found: list[checks.CheckMessage] = []
    if not options.uses_redis and not (django_settings.DEBUG or in_tests()):
        found.append(
            checks.Warning(
                "OTPGATE_STORE is the in-memory store: challenges, send budgets and lockouts "
                "live in one process. With several workers (gunicorn, uWSGI) or hosts, a code "
                "sent by one is unknown to the others and each has its own budgets.",
                hint='Set OTPGATE_STORE = "redis://..." (pip install "otpgate[redis]"); for a '
                'deliberate single-process deployment add "otpgate.W003" to '
                "SILENCED_SYSTEM_CHECKS.",
                obj=wiring.STORE,
                id="otpgate.W003",
            )
        )
    if getattr(django_settings, wiring.DATABASE_URL, None):
        found.append(
            checks.Warning(
                "OTPGATE_DATABASE_URL is not used by the Django integration: factors live in "
                "Django's own database (DATABASES, through the ORM and its migrations).",
                hint="Remove OTPGATE_DATABASE_URL, or route otpgate's models with a database "
                "router (DATABASE_ROUTERS).",
                obj=wiring.DATABASE_URL,
                id="otpgate.W004",
            )
        )
    for old, new in wiring.RENAMED.items():
        if hasattr(django_settings, old):
            found.append(
                checks.Warning(
                    f"{old} is deprecated: the setting is now {new}.",
                    hint=f"Rename {old} to {new} (the value means the same).",
                    obj=old,
                    id="otpgate.W005",
                )
            )
    return found


def check_redis(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Ping the configured Redis once (short timeouts), so a wrong URL shows at start-up."""
    try:
        options = conf.options()
        if not options.uses_redis:
            return []
        from otpgate.redis import RedisStore

        store_options: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
        store_options.update(options.store_options)
        store = RedisStore.from_url(options.store, **store_options)
    except (ConfigurationError, ImportError):
        return []  # reported by check_settings
    except Exception as error:
        return [_unreachable(options.store, error)]
    try:
        store.client.ping()
    except Exception as error:
        return [_unreachable(options.store, error)]
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return []


def _unreachable(url: str, error: BaseException) -> checks.Error:
    safe_url = url.split("@")[-1]  # never print a password
    return checks.Error(
        f"OTPGATE_STORE: Redis at {safe_url!r} does not answer ({type(error).__name__}).",
        hint="Start Redis or fix OTPGATE_STORE; otpgate refuses every code while it is down.",
        obj="OTPGATE_STORE",
        id="otpgate.E007",
    )
