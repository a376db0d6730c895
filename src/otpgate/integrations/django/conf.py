"""Reading ``OTPGATE_*`` Django settings.

The core's policy keys (``OTPGATE_CODE_DIGITS``, ``OTPGATE_SECRET_KEYS``, ...) go to
``Settings.from_mapping``; these keys belong to the Django integration:

``OTPGATE_STORE``          ``"memory"`` (default; one process) or a Redis URL
                           (``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://``)
``OTPGATE_STORE_OPTIONS``  keyword arguments for ``RedisStore.from_url`` (e.g. ``cluster``)
``OTPGATE_SENDER``         ``"console"`` (default), ``"outbox"`` (tests) or a dotted path to a
                           sender class, factory or instance
``OTPGATE_REQUIRED``       ``"optional"`` (default), ``"all"``, ``"staff"`` or
                           ``"groups:<name>,<name>"``: who must set up a second factor
``OTPGATE_EXEMPT_URLS``    more URL names (``"app:name"``) or path prefixes (``"/health"``)
                           the middleware lets through
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings

from otpgate.core.errors import ConfigurationError
from otpgate.core.settings import Settings

#: Settings of this integration; every other ``OTPGATE_*`` key is a core setting.
INTEGRATION_KEYS = frozenset(
    {
        "OTPGATE_STORE",
        "OTPGATE_STORE_OPTIONS",
        "OTPGATE_SENDER",
        "OTPGATE_REQUIRED",
        "OTPGATE_EXEMPT_URLS",
    }
)

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://")


def otpgate_keys() -> dict[str, Any]:
    """Every ``OTPGATE_*`` key of the Django settings."""
    return {
        key: getattr(django_settings, key)
        for key in dir(django_settings)
        if key.startswith("OTPGATE_")
    }


def core_settings() -> Settings:
    """The core's :class:`Settings` from the Django settings (ConfigurationError if bad)."""
    return Settings.from_mapping(otpgate_keys(), ignore=INTEGRATION_KEYS)


@dataclass(frozen=True)
class Requirement:
    """Who must have a second factor: ``"all"``, ``"staff"``, ``"groups"`` or ``"optional"``."""

    kind: str
    groups: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: object) -> Requirement:
        text = str(value if value is not None else "optional").strip()
        if text in {"all", "staff", "optional"}:
            return cls(text)
        if text.startswith("groups:"):
            names = tuple(n.strip() for n in text[len("groups:") :].split(",") if n.strip())
            if names:
                return cls("groups", names)
        raise ConfigurationError(
            "OTPGATE_REQUIRED",
            "expected 'all', 'staff', 'optional' or 'groups:<name>,<name>'",
        )


@dataclass(frozen=True)
class Options:
    """The Django integration's own settings, validated."""

    store: str
    store_options: Mapping[str, Any]
    sender: Any
    required: Requirement
    exempt_urls: tuple[str, ...]

    @property
    def uses_redis(self) -> bool:
        return self.store.startswith(REDIS_SCHEMES)


def options() -> Options:
    """Read and validate the integration's settings (ConfigurationError names the key)."""
    store = getattr(django_settings, "OTPGATE_STORE", "memory") or "memory"
    if not isinstance(store, str) or not (store == "memory" or store.startswith(REDIS_SCHEMES)):
        raise ConfigurationError(
            "OTPGATE_STORE", "expected 'memory' or a redis://, rediss://, unix:// URL"
        )
    store_options = getattr(django_settings, "OTPGATE_STORE_OPTIONS", None) or {}
    if not isinstance(store_options, Mapping):
        raise ConfigurationError("OTPGATE_STORE_OPTIONS", "expected a dict")
    exempt = getattr(django_settings, "OTPGATE_EXEMPT_URLS", ()) or ()
    if isinstance(exempt, str) or not all(isinstance(item, str) for item in exempt):
        raise ConfigurationError("OTPGATE_EXEMPT_URLS", "expected a list of names or paths")
    return Options(
        store=store,
        store_options=dict(store_options),
        sender=getattr(django_settings, "OTPGATE_SENDER", "console") or "console",
        required=Requirement.parse(getattr(django_settings, "OTPGATE_REQUIRED", "optional")),
        exempt_urls=tuple(exempt),
    )
