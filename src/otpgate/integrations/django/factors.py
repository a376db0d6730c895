"""Support operations on a user's factors (admin actions, management commands)."""

from __future__ import annotations

from typing import Any

from otpgate.core.credentials import Factors
from otpgate.core.events import Event, EventName
from otpgate.core.phone import mask

from . import runtime


def describe(user: Any) -> Factors:
    """The user's factors, safe to show (numbers masked)."""
    return runtime.get_verifier().factors(str(user.pk))


def reset(user: Any) -> list[str]:
    """Remove every second factor of ``user`` and lift any lockout; returns what was removed
    (``sms``, ``totp``, ``recovery``). Each removal sends ``factor_removed``. The user's
    sessions keep their login; with ``OTPGATE_REQUIRED`` they must enroll again."""
    gate = runtime.get_verifier()
    subject = str(user.pk)
    removed: list[str] = []
    for e164 in gate.credentials.phones(subject):
        if gate.credentials.remove_phone(subject, e164):
            _removed(subject, "sms", mask(e164))
            removed.append("sms")
    if gate.credentials.get_totp(subject) is not None and gate.credentials.remove_totp(subject):
        _removed(subject, "totp")
        removed.append("totp")
    if gate.credentials.recovery_codes_left(subject):
        gate.credentials.replace_recovery_codes(subject, [])
        _removed(subject, "recovery")
        removed.append("recovery")
    gate.unlock(subject)
    return removed


def _removed(subject: str, factor: str, masked_phone: str = "") -> None:
    gate = runtime.get_verifier()
    gate.events.emit(
        Event(EventName.FACTOR_REMOVED, subject, gate.clock(), factor, masked_phone=masked_phone)
    )
