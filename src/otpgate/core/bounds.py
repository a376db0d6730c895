"""The bounds of every setting: ``validate(settings)`` raises a ConfigurationError naming the
first setting out of bounds. ``Settings`` calls it when it is built."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from .errors import ConfigurationError
from .passkey_settings import validate_webauthn
from .simswap import ON_ERROR_CHOICES

if TYPE_CHECKING:
    from .settings import Settings

_APP_HASH = re.compile(r"[A-Za-z0-9+/]{11}")
#: A frame ancestor origin: scheme, host (maybe ``*.`` for its subdomains), maybe a port.
_ORIGIN = re.compile(
    r"https?://(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}(:[0-9]{1,5})?",
    re.ASCII,
)
_HOST = re.compile(
    r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}", re.ASCII
)
NUMBER_TYPES = frozenset(
    {
        "MOBILE",
        "FIXED_LINE_OR_MOBILE",
        "FIXED_LINE",
        "PAGER",
        "PERSONAL_NUMBER",
        "PREMIUM_RATE",
        "SHARED_COST",
        "TOLL_FREE",
        "UAN",
        "VOICEMAIL",
        "VOIP",
        "UNKNOWN",
    }
)
#: phonenumbers' region of the international networks (satellite, +882/+883, UIFN, ...).
INTERNATIONAL_NETWORKS = "001"
#: Most codes a day that strangers together may have sent to a number not yet verified.
MAX_ENROLLMENT_PER_DAY = 20


def _is_region(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()


def _check(ok: bool, setting: str, problem: str) -> None:
    if not ok:
        raise ConfigurationError(setting, problem)


def validate(s: Settings) -> None:
    _check(isinstance(s.secret_keys, tuple), "secret_keys", "expected a tuple of strings")
    for key in s.secret_keys:
        _check(
            isinstance(key, str) and len(key) >= 16,
            "secret_keys",
            "each key needs at least 16 characters; make one with generate_secret_key()",
        )
    _check(len(set(s.secret_keys)) == len(s.secret_keys), "secret_keys", "keys repeat")
    bounded = {
        "code_digits": (6, 10),
        "code_lifetime": (30, 600),
        "max_attempts": (1, 10),
        "resend_cooldown": (0, 3600),
        "max_sends": (1, 10),
        "lockout_after": (1, 100),
        "lockout_base": (1, 86400),
        "lockout_max": (1, 7 * 86400),
        "hard_lock_after": (1, 100),
        "failure_memory": (60, 90 * 86400),
        "totp_digits": (6, 8),
        "totp_period": (15, 120),
        "totp_window": (0, 2),
        "totp_secret_bytes": (20, 64),
        "recovery_code_count": (1, 50),
        "step_up_max_age": (1, 86400),
        "login_step_timeout": (60, 3600),
        "remember_device_days": (1, 365),
        "max_sms_segments": (1, 10),
        # CAMARA's SIM Swap API takes 1 to 2400 hours; 0 turns the check off.
        "sim_swap_max_age": (0, 2400),
        "pumping_prefix_digits": (1, 6),
        "pumping_window": (300, 6 * 3600),
        "pumping_surge": (2, 1000),
        "pumping_floor": (1, 10_000_000),
        "pumping_country_floor": (1, 100_000_000),
        "pumping_new_country_allowance": (1, 10_000_000),
        "pumping_min_conversion": (0, 100),
        "pumping_min_sample": (1, 1_000_000),
        "pumping_block_seconds": (60, 7 * 86400),
        "webauthn_challenge_lifetime": (30, 600),
    }
    for name, (low, high) in bounded.items():
        value = getattr(s, name)
        _check(isinstance(value, int) and not isinstance(value, bool), name, "expected an integer")
        _check(low <= value <= high, name, f"must be between {low} and {high}, got {value}")
    _check(s.lockout_after <= s.hard_lock_after, "lockout_after", "must not exceed hard_lock_after")
    _check(s.lockout_base <= s.lockout_max, "lockout_base", "must not exceed lockout_max")
    _check(s.pumping_window % 60 == 0, "pumping_window", "must be whole minutes")
    _check(
        s.sim_swap_on_error in ON_ERROR_CHOICES,
        "sim_swap_on_error",
        "expected 'allow' or 'refuse'",
    )
    for name in (
        "phone_budget_short",
        "phone_budget_long",
        "enrollment_budget",
        "subject_budget",
        "ip_budget",
        "voice_budget",
    ):
        rate = getattr(s, name)
        _check(
            hasattr(rate, "limit") and rate.limit >= 1 and rate.window >= 1,
            name,
            "expected a RateLimit with a positive limit and window",
        )
    enrollment = s.enrollment_budget
    _check(
        enrollment.limit * math.ceil(86400 / enrollment.window) <= MAX_ENROLLMENT_PER_DAY,
        "enrollment_budget",
        "must allow at most 20 codes a day (limit × windows per day)",
    )
    for code, cap in dict(s.country_caps).items():
        _check(
            code.isdigit() and isinstance(cap, int) and cap >= 0,
            "country_caps",
            "expected calling codes mapped to whole numbers, e.g. {'44': 5000}",
        )
    _check(
        s.default_country_cap is None or s.default_country_cap >= 0,
        "default_country_cap",
        "must be a whole number or None",
    )
    for name in ("allowed_regions", "denied_regions"):
        regions = getattr(s, name)
        _check(
            all(_is_region(r) or r == INTERNATIONAL_NETWORKS for r in regions),
            name,
            "expected ISO 3166 region codes such as 'GB', 'CN', or '001' (international networks)",
        )
    _check(
        INTERNATIONAL_NETWORKS not in s.allowed_regions or s.allow_international_networks,
        "allowed_regions",
        "'001' is allowed only with allow_international_networks = True",
    )
    _check(
        isinstance(s.allow_international_networks, bool),
        "allow_international_networks",
        "expected True or False",
    )
    _check(
        s.default_region is None or _is_region(s.default_region),
        "default_region",
        "expected an ISO 3166 region code such as 'US'",
    )
    unknown = set(s.allowed_number_types) - NUMBER_TYPES
    _check(not unknown, "allowed_number_types", f"unknown number types {sorted(unknown)}")
    _check(bool(s.allowed_number_types), "allowed_number_types", "must allow at least one type")
    _check(
        s.totp_algorithm in {"SHA1", "SHA256", "SHA512"},
        "totp_algorithm",
        "must be SHA1, SHA256 or SHA512",
    )
    _check(bool(s.brand.strip()) and len(s.brand) <= 40, "brand", "1 to 40 characters")
    _check(s.default_locale.strip() != "", "default_locale", "must not be empty")
    _check(
        s.webotp_domain is None or bool(_HOST.fullmatch(s.webotp_domain)),
        "webotp_domain",
        "must be a bare host name such as 'shop.example' (no scheme, port or path)",
    )
    _check(
        s.android_app_hash is None or _APP_HASH.fullmatch(s.android_app_hash) is not None,
        "android_app_hash",
        "expected the 11-character hash of the SMS Retriever API, e.g. 'FA+9qCX9VSu'",
    )
    _check(isinstance(s.frame_ancestors, tuple), "frame_ancestors", "expected a tuple of strings")
    for source in s.frame_ancestors:
        _check(
            source == "'self'"
            or (isinstance(source, str) and _ORIGIN.fullmatch(source) is not None),
            "frame_ancestors",
            "expected 'self' or origins such as 'https://portal.example' (no path, no '*' alone)",
        )
    _check(
        all(re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name) for name in s.transaction_factors)
        and "recovery" not in s.transaction_factors,
        "transaction_factors",
        "expected factor names such as 'sms, totp' (a recovery code never confirms a transaction)",
    )
    validate_webauthn(s)
