"""Reading ``OTPGATE_*`` Django settings.

The core's policy keys (``OTPGATE_CODE_DIGITS``, ``OTPGATE_SECRET_KEYS``, ...) go to
``Settings.from_mapping``; the store and the sender are read as in every integration
(``OTPGATE_STORE``, ``OTPGATE_STORE_OPTIONS``, ``OTPGATE_SENDER``: :mod:`otpgate.core.wiring`;
``OTPGATE_DATABASE_URL`` is not used: factors live in Django's database). These keys belong
to the Django integration alone:

``OTPGATE_REQUIRED``       ``"optional"`` (default), ``"all"``, ``"staff"`` or
                           ``"groups:<name>,<name>"``: who must set up a second factor
``OTPGATE_EXEMPT_URLS``    more URL names (``"app:name"``) or path prefixes (``"/health"``)
                           the middleware lets through
``OTPGATE_FACTOR_RECHECK`` seconds (default 60; 0: every request) a session trusts its memory
                           that its user has no factor and need not set one up (``guard.py``)
``OTPGATE_BASE_TEMPLATE``  the template otpgate's pages extend (default ``otpgate/base.html``;
                           a site's base with the blocks title, extra_head, content: ``layout.py``)
``OTPGATE_ACCOUNT_LABEL``  the function (or its dotted path) naming a user's account in
                           authenticator apps (default: email, else user name: ``accounts.py``)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings

from otpgate.core import wiring
from otpgate.core.errors import ConfigurationError
from otpgate.core.settings import Settings

#: Settings of this integration; every other ``OTPGATE_*`` key is a core setting.
INTEGRATION_KEYS = frozenset(
    {
        *wiring.KEYS,
        "OTPGATE_REQUIRED",
        "OTPGATE_EXEMPT_URLS",
        "OTPGATE_FACTOR_RECHECK",
        "OTPGATE_BASE_TEMPLATE",
        "OTPGATE_ACCOUNT_LABEL",
    }
)
#: ``OTPGATE_FACTOR_RECHECK``'s default, in seconds.
DEFAULT_RECHECK = 60.0


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

    wiring: wiring.Wiring
    required: Requirement
    exempt_urls: tuple[str, ...]
    factor_recheck: float = DEFAULT_RECHECK

    @property
    def store(self) -> str:
        return self.wiring.store

    @property
    def store_options(self) -> Mapping[str, Any]:
        return self.wiring.store_options

    @property
    def sender(self) -> Any:
        return self.wiring.sender if self.wiring.sender is not None else "console"

    @property
    def uses_redis(self) -> bool:
        return self.wiring.uses_redis


def options() -> Options:
    """Read and validate the integration's settings (ConfigurationError names the key; an old
    name such as ``OTPGATE_REDIS_URL`` works, with a ``DeprecationWarning``)."""
    parts = wiring.read(otpgate_keys(), stacklevel=2)
    exempt = getattr(django_settings, "OTPGATE_EXEMPT_URLS", ()) or ()
    if isinstance(exempt, str) or not all(isinstance(item, str) for item in exempt):
        raise ConfigurationError("OTPGATE_EXEMPT_URLS", "expected a list of names or paths")
    return Options(
        wiring=parts,
        required=Requirement.parse(getattr(django_settings, "OTPGATE_REQUIRED", "optional")),
        exempt_urls=tuple(exempt),
        factor_recheck=_recheck(getattr(django_settings, "OTPGATE_FACTOR_RECHECK", None)),
    )


def _recheck(value: object) -> float:
    if value is None:
        return DEFAULT_RECHECK
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 86400:
        raise ConfigurationError("OTPGATE_FACTOR_RECHECK", "expected seconds from 0 to 86399")
    return float(value)
