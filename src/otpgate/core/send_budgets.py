"""``SendBudgets``: which budgets one send spends, as pure code (mixed into ``BaseVerifier``):
a number's or an email address's own budgets per subject, the subject's, the client IP's,
the enrollment, call and country budgets, and the ranges the pumping guard watches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .address import EmailAddress, parse_email
from .challenge import ChallengeRecord, subject_key_of
from .crypto import Keyring
from .errors import SendLimitReached
from .phone import PhoneNumber, parse_phone
from .policy import PART_CHARS, TAG_CHARS, Budget, client_network
from .pumping import Watch
from .sealed import Delivery
from .settings import Settings


class SendBudgets:
    """The budgets of a send and of a resend (no I/O: the verifier spends them)."""

    settings: Settings
    keyring: Keyring

    if TYPE_CHECKING:

        def _watches(self, number: PhoneNumber, purpose: str) -> list[Watch]: ...

    def _email_budgets(
        self, subject_key: str, address: EmailAddress, purpose: str, client_ip: str
    ) -> list[Budget | Watch]:
        """The budgets one email spends: like a number's (:meth:`_budgets`), per address and
        subject (the phone budgets' limits), per subject and per client IP (shared with
        SMS), and for an address being verified the enrollment budget of the address."""
        budgets, _ = self._own_budgets("email", address.address, subject_key)
        return budgets + self._shared_budgets("email", "me", address.address, purpose, client_ip)

    def _own_budgets(
        self, scope: str, destination: str, subject_key: str
    ) -> tuple[list[Budget | Watch], str]:
        """A destination's (a number's E.164, an address) budgets of one subject, then its
        digest for that subject. They live in the subject's record (one key fewer per send),
        counting the sends noted with the destination's part, beside the subject's own."""
        s = self.settings
        own_key = self.keyring.digest(scope, destination, subject_key)
        own, part = f"s:{subject_key}", own_key[:PART_CHARS]
        return [
            Budget(scope, own, s.phone_budget_short.limit, s.phone_budget_short.window, part),
            Budget(scope, own, s.phone_budget_long.limit, s.phone_budget_long.window, part),
            Budget("subject", own, s.subject_budget.limit, s.subject_budget.window),
        ], own_key

    def _shared_budgets(
        self, scope: str, prefix: str, destination: str, purpose: str, client_ip: str
    ) -> list[Budget | Watch]:
        """The budgets shared across accounts (short tags): a destination's enrollment budget
        while it is being verified (``enroll``), the client network's."""
        s = self.settings
        budgets: list[Budget | Watch] = []
        if purpose == "enroll":
            shared_key = self.keyring.digest(scope, destination)[:TAG_CHARS]
            rate = s.enrollment_budget
            budgets.append(Budget("enrollment", f"{prefix}:{shared_key}", rate.limit, rate.window))
        if client_ip:
            ip_key = self.keyring.digest("ip", client_network(client_ip))[:TAG_CHARS]
            budgets.append(Budget("ip", f"i:{ip_key}", s.ip_budget.limit, s.ip_budget.window))
        return budgets

    def _budgets(
        self,
        subject_key: str,
        number: PhoneNumber,
        purpose: str,
        client_ip: str,
        channel: str = "sms",
    ) -> list[Budget | Watch]:
        """The budgets one send spends (then the ranges the pumping guard watches it in).
        Each is charged to whoever could spend it: a number's
        own budgets are per number *and* subject, so a stranger's sends never count against
        the sign-in codes of the number's owner; codes to a number the subject has not
        verified yet (``enroll``) also spend the number's enrollment budget, shared by every
        account, so no number receives more than a few unsolicited codes a day. A voice call
        spends the same budgets as an SMS (they hold across channels) and, on top, the
        tighter call budget of this number and subject (``voice_budget``).
        """
        s = self.settings
        budgets, phone_key = self._own_budgets("phone", number.e164, subject_key)
        if channel == "voice":
            rate = s.voice_budget
            budgets.append(Budget("voice", f"v:{phone_key[:TAG_CHARS]}", rate.limit, rate.window))
        budgets += self._shared_budgets("phone", "e", number.e164, purpose, client_ip)
        cap = s.country_caps.get(number.calling_code, s.default_country_cap)
        if cap == 0:  # a store counts against a positive limit only
            raise SendLimitReached("country")
        if cap is not None:
            # "+33": a record the release before kept in microseconds ("33") is not read.
            budgets.append(Budget("country", f"c:+{number.calling_code}", cap, 86400))
        return budgets + self._watches(number, purpose)

    def _resend_budgets(
        self, record: ChallengeRecord, delivery: Delivery, client_ip: str
    ) -> list[Budget | Watch]:
        subject_key = subject_key_of(record.id)
        if delivery.channel == "email":
            address = parse_email(delivery.phone)
            return self._email_budgets(subject_key, address, record.purpose, client_ip)
        number = parse_phone(delivery.phone, self.settings)
        return self._budgets(subject_key, number, record.purpose, client_ip, delivery.channel)
