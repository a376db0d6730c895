"""The verifiers' side of the SMS pumping guard (mixed into ``BaseVerifier``): which ranges a
send is watched in, the verified codes waiting for the next send, and what a refusal means.
The decision itself is :mod:`otpgate.core.pumping`; the store runs it with the budgets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from .challenge import ChallengeRecord, channel_of
from .errors import OtpgateError, SendLimitReached, SmsTemporarilyUnavailable
from .events import EventName
from .phone import PhoneNumber
from .policy import Budget, Denial
from .pumping import REASONS, Credits, PumpingRule, Watch, parse_label, prefix_label
from .sealed import open_delivery

if TYPE_CHECKING:
    from .crypto import Keyring
    from .settings import Settings

#: Purposes whose codes go to a number the subject verified before: trusted, never refused.
TRUSTED_PURPOSES = frozenset({"login", "action", "transaction"})

#: The channels that send to a phone number: the only sends the guard watches and credits.
PHONE_CHANNELS = frozenset({"sms", "voice"})


#: Approvals a verifier notes before it works out their credits without waiting for a send.
MAX_DEFERRED = 256


@lru_cache(maxsize=4096)
def watch_key(keyring: Keyring, scope: str, label: str) -> str:
    """The core's store key of a watched range: a keyed digest of it, never the digits
    (cached: a few thousand ranges see nearly every send)."""
    return f"w:{keyring.digest('pumping', scope, label)}"


def watches(
    settings: Settings, keyring: Keyring, number: PhoneNumber, trusted: bool
) -> list[Watch]:
    """The ranges a send to ``number`` is counted and judged in: its prefix, its country."""
    s = settings
    if not s.pumping_guard:
        return []
    rule = PumpingRule(
        s.pumping_window,
        s.pumping_surge,
        s.pumping_min_conversion,
        s.pumping_min_sample,
        s.pumping_block_seconds,
    )
    prefix = prefix_label(number.e164, number.calling_code, s.pumping_prefix_digits)
    country = f"+{number.calling_code}"
    return [
        Watch(
            "pumping_prefix",
            watch_key(keyring, "prefix", prefix),
            prefix,
            s.pumping_floor,
            s.pumping_floor,
            rule,
            trusted,
        ),
        Watch(
            "pumping_country",
            watch_key(keyring, "country", country),
            country,
            s.pumping_country_floor,
            s.pumping_new_country_allowance,
            rule,
            trusted,
        ),
    ]


def calling_code_of(e164: str) -> str:
    """The calling code ``e164`` starts with ("" if none): calling codes are prefix-free."""
    for length in (1, 2, 3):
        if int(e164[1 : 1 + length] or 0) in COUNTRY_CODE_TO_REGION_CODE:
            return e164[1 : 1 + length]
    return ""


def lift_key(keyring: Keyring, text: str) -> tuple[str, str]:
    """(store key, label) of the range an operator names: ``+44 7700`` (or ``+447700``) for
    a prefix, ``+44`` for a country. ValueError if it is no such thing."""
    codes = [str(code) for code in COUNTRY_CODE_TO_REGION_CODE]
    label = parse_label(text, codes)
    scope = "prefix" if " " in label else "country"
    return watch_key(keyring, scope, label), label


class PumpingDecisions:
    """Watches for each send, credits for each verified code, events and errors for blocks."""

    settings: Settings
    keyring: Keyring

    if TYPE_CHECKING:

        def _emit(self, name: EventName, subject: str, **fields: Any) -> None: ...

    _credits: Credits

    def _watches(self, number: PhoneNumber, purpose: str) -> list[Watch]:
        return watches(self.settings, self.keyring, number, purpose in TRUSTED_PURPOSES)

    def _with_credits(self, entries: Sequence[Budget | Watch]) -> list[Budget | Watch]:
        """``entries`` carrying the verified codes buffered since this process's last send."""
        self._credit_deferred()
        return self._credits.take(entries)

    def _restore_credits(self, entries: Sequence[Budget | Watch]) -> None:
        self._credits.restore(e for e in entries if isinstance(e, Watch))

    def _note_verified(self, record: ChallengeRecord | None) -> None:
        """A code sent to a number (SMS or call) was entered: credit its ranges (with the
        next send). A code sent to an email address has no number range: nothing. The check
        only notes the record; its ranges are worked out later (see core/pumping.py)."""
        if record is None or not self.settings.pumping_guard or channel_of(record) == "email":
            return
        if self._credits.defer(record) >= MAX_DEFERRED:
            self._credit_deferred()

    def _credit_deferred(self) -> None:
        """Turn the approvals waiting into credits: one count per range, its watches built
        once however many approvals it had (only the number is opened per approval)."""
        counts: Counter[tuple[str, str]] = Counter()
        for record in self._credits.deferred():
            if isinstance(record, ChallengeRecord) and (number := self._credited(record)):
                counts[number] += 1
        for (phone, code), verified in counts.items():
            self._credits.add(self._watches(PhoneNumber(phone, "", code, ""), "enroll"), verified)

    def _credited(self, record: ChallengeRecord) -> tuple[str, str] | None:
        """(the range-deciding digits, calling code) of the number ``record`` sent its code
        to; None for no number (an email, a record that no longer opens)."""
        try:
            delivery = open_delivery(self.keyring, record, subject="")  # the number only
        except OtpgateError:  # a record that no longer opens
            return None
        if delivery.channel not in PHONE_CHANNELS:
            return None
        phone = delivery.phone
        code = calling_code_of(phone)
        if not code:
            return None
        # (no parsing again: the number was checked when the code was sent) Only the
        # digits the prefix label reads matter: approvals of one range count together.
        return phone[: 1 + len(code) + self.settings.pumping_prefix_digits], code

    def _raise_for_denial(
        self, denial: Denial | None, subject: str = "", purpose: str = "", masked: str = ""
    ) -> None:
        if denial is None:
            return
        reason = REASONS.get(denial.scope)
        if reason is None:
            raise SendLimitReached(denial.scope, retry_after=denial.retry_after)
        if denial.detail is not None:
            self._emit(
                EventName.PUMPING_BLOCKED,
                subject,
                factor="sms",
                purpose=purpose,
                masked_phone=masked,
                detail={
                    "scope": denial.scope.removeprefix("pumping_"),
                    "prefix": denial.label,
                    "block_seconds": self.settings.pumping_block_seconds,
                    **denial.detail,
                },
            )
        raise SmsTemporarilyUnavailable(reason, retry_after=denial.retry_after)
