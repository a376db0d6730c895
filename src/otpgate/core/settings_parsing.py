"""How configuration values are read: :class:`RateLimit` (``"5/15m"``), and the converters
``Settings`` applies to each field (``_COERCE``), so that text from the environment or a
config file becomes a number, a list, a set, a mapping or a rate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd]?)\s*$")


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events in any ``window`` seconds."""

    limit: int
    window: int

    @classmethod
    def parse(cls, value: object) -> RateLimit:
        """Accept a RateLimit, a ``(limit, window)`` pair or text like ``"5/15m"``, ``"20/h"``."""
        if isinstance(value, RateLimit):
            return value
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return cls(int(value[0]), int(value[1]))
        if isinstance(value, str) and (match := _RATE.match(value)):
            count, amount, unit = match.groups()
            return cls(int(count), int(amount or 1) * _UNITS[unit or "s"])
        raise ValueError("expected a rate like '5/15m', '10/24h' or a (limit, seconds) pair")

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}s"


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a whole number")
    return int(value)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[\s,]+", value) if part)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(str(part) for part in value)
    raise ValueError("expected a list or comma-separated text")


def _upper_set(value: object) -> frozenset[str]:
    return frozenset(part.upper() for part in _words(value))


def _origins(value: object) -> tuple[str, ...]:
    """Frame ancestors: ``self`` may come without its quotes; origins are lower-cased."""
    return tuple(
        "'self'" if part.lower() in {"self", "'self'"} else part.lower() for part in _words(value)
    )


def _names(value: object) -> tuple[str, ...]:
    """Factor names, lower-cased."""
    return tuple(part.lower() for part in _words(value))


def _caps(value: object) -> dict[str, int]:
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in _words(value)]
        return {code.lstrip("+"): _int(cap) for code, cap in pairs}
    if isinstance(value, Mapping):
        return {str(code).lstrip("+"): _int(cap) for code, cap in value.items()}
    raise ValueError("expected a mapping like {'44': 5000} or text like '44=5000,1=20000'")


def _optional(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    return lambda value: None if value in (None, "") else convert(value)


_COERCE: dict[str, Callable[[object], Any]] = {
    "secret_keys": _words,
    "brand": str,
    "webotp_domain": _optional(str),
    "default_locale": str,
    "android_app_hash": _optional(str),
    "phone_budget_short": RateLimit.parse,
    "phone_budget_long": RateLimit.parse,
    "enrollment_budget": RateLimit.parse,
    "subject_budget": RateLimit.parse,
    "voice_budget": RateLimit.parse,
    "ip_budget": RateLimit.parse,
    "country_caps": _caps,
    "default_country_cap": _optional(_int),
    "default_region": _optional(lambda v: str(v).upper()),
    "allowed_regions": _upper_set,
    "denied_regions": _upper_set,
    "allowed_number_types": _upper_set,
    "allow_international_networks": _bool,
    "totp_algorithm": lambda v: str(v).upper(),
    "remember_device": _bool,
    "frame_ancestors": _origins,
    "transaction_factors": _names,
    "sim_swap_on_error": lambda v: str(v).strip().lower(),
    "pumping_guard": _bool,
    "webauthn_rp_id": _optional(lambda v: str(v).strip().lower()),
    "webauthn_rp_name": _optional(str),
    "webauthn_origins": lambda v: tuple(part.rstrip("/").lower() for part in _words(v)),
}
