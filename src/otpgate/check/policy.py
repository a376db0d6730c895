"""The settings as a policy a person can read, and the settings' own findings."""

from __future__ import annotations

from typing import Any

from otpgate.core.credentials import MemoryCredentials
from otpgate.core.errors import ConfigurationError
from otpgate.core.memory_store import MemoryStore
from otpgate.core.senders import OutboxSender
from otpgate.core.settings import RateLimit, Settings
from otpgate.core.verifier import Verifier

from .probes import Finding

#: Number types that are cheap to obtain in bulk or bill the sender: SMS pumping targets.
RISKY_NUMBER_TYPES = frozenset({"PREMIUM_RATE", "SHARED_COST", "TOLL_FREE", "UAN", "VOIP"})
KEYGEN = "Run `otpgate keygen` and set OTPGATE_SECRET_KEYS to it (keep it secret and stable)."


def setting_name(error: ConfigurationError) -> str:
    name = error.setting
    return name if name.startswith("OTPGATE_") else "OTPGATE_" + name.upper()


def _problem(error: ConfigurationError) -> str:
    return str(error).split(": ", 1)[-1]


def _fail(error: ConfigurationError) -> Finding:
    name, problem = setting_name(error), _problem(error)
    if name == "OTPGATE_SECRET_KEYS":
        fix = KEYGEN
    elif problem == "unknown setting":
        fix = f"Remove {name} or correct its name (the docs' configuration reference)."
    else:
        fix = f"Fix {name} (the docs' configuration reference gives each bound)."
    return Finding("fail", "settings", f"{name}: {problem}", fix)


def validate(values: dict[str, Any]) -> tuple[Settings | None, list[Finding]]:
    """Every problem of ``values`` (``Settings`` stops at the first one, so the key it
    names is set aside and the rest tried again), then what building a verifier finds; and
    the settings when there is no problem."""
    found: list[Finding] = []
    remaining = dict(values)
    while True:
        try:
            Settings.from_mapping(remaining)
            break
        except ConfigurationError as error:
            found.append(_fail(error))
            if remaining.pop(setting_name(error), None) is None:
                break
    if found:
        return None, found
    if not values.get("OTPGATE_SECRET_KEYS"):
        return None, [Finding("fail", "settings", "OTPGATE_SECRET_KEYS is not set", KEYGEN)]
    try:
        settings = Settings.from_mapping(values)
        Verifier(
            settings, store=MemoryStore(), sender=OutboxSender(), credentials=MemoryCredentials()
        )
    except ConfigurationError as error:
        return None, [_fail(error)]
    count = len(values)
    summary = f"{count} OTPGATE_* setting{'s' if count != 1 else ''} valid, the rest default"
    return settings, [Finding("ok", "settings", summary), *advice(settings)]


def advice(s: Settings) -> list[Finding]:
    """Valid but worth a second look."""
    found = []
    risky = sorted(s.allowed_number_types & RISKY_NUMBER_TYPES)
    if risky:
        found.append(
            Finding(
                "warn",
                "policy",
                f"number types {', '.join(risky)} are allowed: cheap in bulk, billed to you",
                "Keep OTPGATE_ALLOWED_NUMBER_TYPES to MOBILE, FIXED_LINE_OR_MOBILE.",
            )
        )
    if s.allow_international_networks:
        found.append(
            Finding(
                "warn",
                "policy",
                "numbers of the international networks (region 001: satellite phones, "
                "+882/+883, UIFN) are allowed: costly, favourite SMS pumping targets",
                "Unset OTPGATE_ALLOW_INTERNATIONAL_NETWORKS unless your users need them.",
            )
        )
    if not s.country_caps and s.default_country_cap is None:
        found.append(
            Finding(
                "warn",
                "policy",
                "no daily SMS cap per country: pumping to costly destinations is limited "
                "only per phone, user and client IP",
                "Set OTPGATE_DEFAULT_COUNTRY_CAP (and OTPGATE_COUNTRY_CAPS for your markets).",
            )
        )
    return found


def _rate(rate: RateLimit) -> str:
    for unit, seconds in (("day", 86400), ("hour", 3600), ("min", 60), ("s", 1)):
        if rate.window % seconds == 0:
            amount = rate.window // seconds
            return f"{rate.limit} per {'' if amount == 1 else f'{amount} '}{unit}"
    return f"{rate.limit} per {rate.window} s"  # pragma: no cover - seconds always divide


def _names(values: frozenset[str], empty: str) -> str:
    return ", ".join(sorted(values)) or empty


def rows(s: Settings) -> list[tuple[str, str]]:
    """(what, value) lines of the policy summary."""
    caps = ", ".join(f"+{code}: {cap}" for code, cap in sorted(dict(s.country_caps).items()))
    default_cap = "none" if s.default_country_cap is None else str(s.default_country_cap)
    webotp = s.webotp_domain or "off"
    remember = f"{s.remember_device_days} days" if s.remember_device else "off"
    lockout = (
        f"wait after {s.lockout_after} failures ({s.lockout_base} s doubling, at most "
        f"{s.lockout_max} s); locked after {s.hard_lock_after}"
    )
    return [
        ("SMS code", f"{s.code_digits} digits, {s.code_lifetime} s, {s.max_attempts} checks"),
        ("resend", f"same code; wait {s.resend_cooldown} s doubling; {s.max_sends} sends"),
        (
            "budget per phone",
            f"{_rate(s.phone_budget_short)}, {_rate(s.phone_budget_long)} (each user's own)",
        ),
        ("enrollment per phone", f"{_rate(s.enrollment_budget)} (all users together)"),
        ("budget per user", _rate(s.subject_budget)),
        ("budget per client IP", _rate(s.ip_budget)),
        ("cap per country / day", f"{caps or 'none listed'}; others: {default_cap}"),
        (
            "regions",
            f"allowed: {_names(s.allowed_regions, 'all')}; "
            f"denied: {_names(s.denied_regions, 'none')}; international networks (001): "
            f"{'allowed' if s.allow_international_networks else 'refused'}",
        ),
        ("number types", _names(s.allowed_number_types, "none")),
        ("failures per user", lockout),
        (
            "authenticator app",
            f"{s.totp_algorithm}, {s.totp_digits} digits, {s.totp_period} s, "
            f"±{s.totp_window} step{'s' if s.totp_window != 1 else ''}",
        ),
        ("recovery codes", f"{s.recovery_code_count} codes"),
        ("step-up freshness", f"{s.step_up_max_age} s"),
        ("second login step", f"within {s.login_step_timeout} s of the password"),
        ("remember device", remember),
        ("pages in frames of", " ".join(s.frame_ancestors) or "nobody (X-Frame-Options: DENY)"),
        ("SMS text", f"brand {s.brand!r}, WebOTP {webotp}, ≤ {s.max_sms_segments} segments"),
        ("keys", f"{len(s.secret_keys)} (the first seals; the others open only)"),
    ]


def table(s: Settings) -> str:
    """The policy summary; ``*`` marks what differs from otpgate's defaults."""
    defaults = dict(rows(Settings()))
    lines = ["Policy (* differs from the default)"]
    for what, value in rows(s):
        mark = "*" if defaults.get(what) != value and what != "keys" else " "
        lines.append(f" {mark} {what:<22} {value}")
    return "\n".join(lines)
