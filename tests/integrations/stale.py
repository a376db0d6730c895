"""What the "every change of factors needs a fresh second factor" tests of each framework
share (issue 18, class 1): the body shapes a route may be sent, a fingerprint of a subject's
factors, and what no answer to a stale session may hold.

Each framework's test enumerates its own routes (URLconf, url_map, OpenAPI), signs in a user
with a phone, recovery codes, a pending authenticator set-up and a number being added (all
made while fresh), makes the session stale, and sends every state-changing route every shape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyotp

from otpgate.core.codes import clean_recovery_code

#: The methods that may change state.
CHANGING_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_FIELDS: dict[str, Sequence[str]] = {
    "factor": ("sms", "totp", "recovery"),
    "action": ("start", "confirm", "verify", "send", "resend", "remove", "generate"),
    "method": ("sms", "totp", "recovery"),
    "purpose": ("enroll", "action"),
}

_RECOVERY = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
_PLACEHOLDERS = {"XXXX-XXXX-XXXX", "ABCD-EFGH-JKMN"}  # the input fields' examples


def body_shapes(codes: Sequence[str], phones: Sequence[str]) -> list[dict[str, str]]:
    """Every shape worth sending: empty; each code alone; each value of each field, without a
    code and with each of ``codes`` but the empty one (the right ones first); numbers."""
    shapes: list[dict[str, str]] = [{}]
    shapes += [{"code": code} for code in codes]
    with_code = [code for code in codes if code][:3]
    for name, values in _FIELDS.items():
        for value in values:
            shapes.append({name: value})
            shapes += [{name: value, "code": code} for code in with_code]
    for phone in phones:
        shapes += [{"phone": phone}, {"factor": "sms", "phone": phone}]
        shapes.append({"purpose": "enroll", "phone": phone})
    shapes += [{"index": "0"}, {"action": "confirm", "factor": "totp", "code": codes[0]}]
    return shapes


@dataclass
class Secrets:
    """What was made while the session was fresh, and must not leak or work once stale."""

    totp_secret: str
    recovery_codes: list[str]
    enroll_code: str

    def totp_code(self, now: float) -> str:
        return str(pyotp.TOTP(self.totp_secret).at(int(now)))

    def codes(self, now: float) -> list[str]:
        """The right codes first (for a pending set-up, for the number being added), then
        wrong ones: empty, malformed, a plausible one."""
        wrong = "000000" if "000000" not in {self.enroll_code, self.totp_code(now)} else "999999"
        return [self.totp_code(now), self.enroll_code, wrong, "", "x"]

    def assert_not_in(self, body: str, where: str) -> None:
        assert self.totp_secret not in body.replace(" ", ""), f"{where}: the pending secret"
        assert "otpauth://" not in body, f"{where}: an otpauth URI"
        shown = set(_RECOVERY.findall(body)) - set(self.recovery_codes) - _PLACEHOLDERS
        assert not shown, f"{where}: new recovery codes"


def recovery_digests(verifier: Any, subject: str, code: str) -> list[str]:
    return list(verifier.keyring.digests("recovery", subject, clean_recovery_code(code)))


def fingerprint(
    phones: Sequence[str], totp: Any, left: int, still_valid: bool
) -> tuple[object, ...]:
    """A subject's factors: numbers, the app (secret, confirmed, created), recovery codes
    (how many, and whether one made while fresh still works)."""
    app = None if totp is None else (totp.sealed_secret, totp.confirmed, totp.created_at)
    return (sorted(phones), app, left, still_valid)


def sync_fingerprint(verifier: Any, subject: str, recovery_code: str) -> tuple[object, ...]:
    credentials = verifier.credentials
    return fingerprint(
        credentials.phones(subject),
        credentials.get_totp(subject),
        credentials.recovery_codes_left(subject),
        credentials.has_recovery_code(subject, recovery_digests(verifier, subject, recovery_code)),
    )


async def async_fingerprint(verifier: Any, subject: str, recovery_code: str) -> tuple[object, ...]:
    credentials = verifier.credentials
    return fingerprint(
        await credentials.phones(subject),
        await credentials.get_totp(subject),
        await credentials.recovery_codes_left(subject),
        await credentials.has_recovery_code(
            subject, recovery_digests(verifier, subject, recovery_code)
        ),
    )
