"""What a store holds after a full flow: nothing personal, and no code, in clear.

``run_flow`` drives one verifier (sync, or async through ``Sync``) through every kind of
state a store keeps: an enrollment, a transaction code with a summary and a context, a
resend, a wrong and a right check, a pending sign-in, an authenticator app, a recovery code
and a lockout. It returns the secrets that went by; ``leaks`` finds any of them in text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from enum import Enum
from typing import Any

import phonenumbers
import pyotp
import pytest

from otpgate import InvalidCode, LockedOut, OutboxSender, Settings
from tests.conftest import KEY, PHONE, FakeClock

SUBJECT = "subject-7f3a9c-alice.martin@example.org"
SUMMARY = "Pay 250.00 EUR to Bob Martin"
CONTEXT = {"amount": "250.00", "payee": "Bob Martin", "iban": "FR7630006000011234567890189"}
CLIENT_IP = "198.51.100.77"
#: The flow sends seven codes to one number within 15 minutes.
SETTINGS = Settings(secret_keys=(KEY,), phone_budget_short="10/15m")


def phone_forms(e164: str) -> list[str]:
    """The number as E.164, its digits, and its national forms (digits only, and as
    dialled, with and without the trunk prefix)."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return [
        e164,
        e164.lstrip("+"),
        str(number.national_number),
        re.sub(r"\D", "", national),
        national,
    ]


@dataclasses.dataclass
class Secrets:
    """What must never be found in clear: texts anywhere, codes as a run of digits."""

    texts: list[str]
    codes: set[str]

    def leaks(self, text: str) -> list[str]:
        found = [secret for secret in self.texts if secret.lower() in text.lower()]
        found += [f"code {code}" for code in self.codes if re.search(rf"(?<!\d){code}(?!\d)", text)]
        return found


def run_flow(g: Any, outbox: OutboxSender, clock: FakeClock) -> Secrets:
    """Every kind of state, for ``SUBJECT`` and ``PHONE``; returns what must not leak."""
    codes: set[str] = set()

    def last_code() -> str:
        code = outbox.last_code_for(PHONE)
        assert code is not None
        codes.add(code)
        return code

    # Enroll the phone.
    enroll = g.start_sms(SUBJECT, PHONE, purpose="enroll", client_ip=CLIENT_IP)
    g.check(enroll.id, last_code(), subject=SUBJECT)

    # A transaction code with a summary and a context: resent, a wrong check, a right one.
    pay = g.start_sms(
        SUBJECT, purpose="transaction", context=CONTEXT, summary=SUMMARY,
        client_ip=CLIENT_IP, locale="en",
    )  # fmt: skip
    first = last_code()
    clock.advance(31)
    g.resend(pay.id, client_ip=CLIENT_IP)
    assert last_code() == first  # the same code, opened from the store
    assert SUMMARY in outbox.messages[-1].text
    wrong = "000000" if first != "000000" else "111111"
    with pytest.raises(InvalidCode):
        g.check(pay.id, wrong, context=CONTEXT)
    done = g.check(pay.id, first, context=CONTEXT)
    assert done.subject == SUBJECT  # opened from the record: no subject was named

    # A sign-in left pending, its public view read back without naming the subject.
    login = g.start_sms(SUBJECT, client_ip=CLIENT_IP)
    last_code()
    view = g.get(login.id)
    assert view.subject == SUBJECT and view.masked_phone.endswith(PHONE[-4:])

    # An authenticator app (its replay marker is in the store) and a recovery code.
    setup = g.totp.enroll(SUBJECT)
    totp = pyotp.TOTP(setup.secret)
    confirm = totp.at(clock.now)
    g.totp.confirm(SUBJECT, confirm)
    clock.advance(30)
    step = totp.at(clock.now)
    g.check_totp(SUBJECT, step)
    recovery = g.recovery.generate(SUBJECT)
    g.check_recovery(SUBJECT, recovery[0])
    codes |= {confirm, step}

    # A lockout: wrong sign-in codes until the subject is locked (the 5th failure in a row).
    guess = g.start_sms(SUBJECT, client_ip=CLIENT_IP)
    code = last_code()
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444") if c != code]
    for attempt in wrong[:4]:
        with pytest.raises(InvalidCode):
            g.check(guess.id, attempt)
    with pytest.raises(LockedOut):
        g.check(guess.id, "999999" if code != "999999" else "888888")
    clock.advance(30)
    with pytest.raises(LockedOut):
        g.check_totp(SUBJECT, totp.at(clock.now))

    texts = [SUBJECT, SUMMARY, *CONTEXT.values(), CLIENT_IP, *phone_forms(PHONE)]
    texts += recovery + [c.replace("-", "") for c in recovery]
    return Secrets(texts, codes)


def walk(value: object, seen: set[int] | None = None) -> Iterator[str]:
    """Every string (and number, as text) reachable from ``value``: keys, values, fields."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Enum):
        yield str(value.value)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "backslashreplace")
    elif value is None or isinstance(value, (int, float)):
        yield str(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key, seen)
            yield from walk(item, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from walk(item, seen)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name), seen)
    elif hasattr(value, "__dict__"):
        yield from walk(vars(value), seen)
    else:
        yield repr(value)  # a lock, say
