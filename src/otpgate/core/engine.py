"""``BaseVerifier``: every decision of the verifiers, as pure code with no I/O.

``Verifier`` and ``AsyncVerifier`` call a ``_plan_*`` method, do the store, credential and
sender calls it names (with or without ``await``), and hand the answers to a ``_finish_*``
method. Nothing here blocks or awaits, so both verifiers decide exactly alike. This module
holds the decisions about sending codes; ``decisions.py`` those about checking them;
``send_budgets.py`` the budgets a send spends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .address import EmailAddress
from .challenge import (
    PURPOSES,
    Challenge,
    ChallengeRecord,
    Status,
    new_challenge_id,
    subject_key_of,
)
from .codes import generate_numeric_code
from .decisions import LOST_RACE
from .delivery_decisions import DELIVERY_STATUSES, SEND_SEPARATOR, DeliveryDecisions
from .errors import (
    ChallengeExpired,
    ConfigurationError,
    FactorNotEnrolled,
    MalformedInput,
)
from .guard import PumpingDecisions
from .message import summary_fits
from .phone import PhoneNumber, parse_phone
from .policy import Budget, Outcome, Result
from .pumping import Watch
from .sealed import Delivery, open_delivery, seal_delivery, seal_subject
from .send_budgets import SendBudgets
from .simswap import SimSwapDecisions

logger = logging.getLogger("otpgate")

_MAX_SUMMARY = 80

__all__ = ["DELIVERY_STATUSES", "LOST_RACE", "SEND_SEPARATOR", "BaseVerifier", "StartPlan"]


@dataclass(frozen=True)
class StartPlan:
    record: ChallengeRecord
    phone: PhoneNumber | EmailAddress  #: where the code goes (a number or an address)
    delivery: Delivery
    budgets: list[Budget | Watch]

    @property
    def code(self) -> str:
        return self.delivery.code


class BaseVerifier(PumpingDecisions, SimSwapDecisions, SendBudgets, DeliveryDecisions):
    """The pure decisions of both verifiers: sending here, checking in ``Decisions``."""

    # -- starting and resending SMS challenges ------------------------------------------------

    def _plan_phone(self, subject: object, phone: object, purpose: object) -> tuple[str, str]:
        subject = self._subject(subject)
        if purpose not in PURPOSES:
            raise MalformedInput(f"The purpose must be one of {sorted(PURPOSES)}.")
        if phone is not None and not isinstance(phone, str):
            raise MalformedInput("The phone number must be a string.")
        return subject, str(purpose)

    def _choose_phone(self, purpose: str, phone: str | None, known: list[str]) -> PhoneNumber:
        if phone is None:
            if purpose == "enroll":
                raise MalformedInput("Enter the phone number to verify.")
            if not known:
                raise FactorNotEnrolled("No verified phone number is set up for this account.")
            return parse_phone(known[0], self.settings)
        number = parse_phone(phone, self.settings)
        if purpose != "enroll" and number.e164 not in known:
            raise FactorNotEnrolled("This phone number is not verified for this account.")
        return number

    def _plan_start(
        self,
        subject: str,
        number: PhoneNumber,
        purpose: str,
        context: Mapping[str, Any] | None,
        client_ip: object,
        locale: object,
        summary: object,
        action: object = None,
        channel: str = "sms",
    ) -> StartPlan:
        summary_text = self._short_text(summary, "summary")
        locale_text = self._short_text(locale, "locale")
        if len(summary_text) > _MAX_SUMMARY or not summary_fits(
            self.settings, summary_text, locale=locale_text or None, region=number.region
        ):
            raise MalformedInput("The transaction summary is too long for an SMS.")
        return self._plan_delivery(
            subject,
            number,
            number.e164,
            purpose,
            context,
            client_ip,
            locale_text,
            summary_text,
            action,
            channel,
        )

    def _plan_email_start(
        self,
        subject: str,
        address: EmailAddress,
        purpose: str,
        context: Mapping[str, Any] | None,
        client_ip: object,
        locale: object,
        summary: object,
        action: object = None,
    ) -> StartPlan:
        summary_text = self._short_text(summary, "summary")
        if len(summary_text) > _MAX_SUMMARY:
            raise MalformedInput("The transaction summary is too long.")
        locale_text = self._short_text(locale, "locale")
        return self._plan_delivery(
            subject,
            address,
            address.address,
            purpose,
            context,
            client_ip,
            locale_text,
            summary_text,
            action,
            "email",
        )

    def _plan_delivery(
        self,
        subject: str,
        destination: PhoneNumber | EmailAddress,
        to: str,
        purpose: str,
        context: Mapping[str, Any] | None,
        client_ip: object,
        locale_text: str,
        summary_text: str,
        action: object,
        channel: str = "sms",
    ) -> StartPlan:
        """The record, delivery and budgets of a new challenge to ``to`` (a number in E.164
        or a normalised email address: the channel follows from it)."""
        now = self.clock()
        subject_key = self.subject_key(subject)
        challenge_id = new_challenge_id(subject_key)
        code = generate_numeric_code(self.settings.code_digits)
        delivery = Delivery(subject, to, code, summary_text, channel)
        record = ChallengeRecord(
            id=challenge_id,
            purpose=purpose,
            masked_phone=destination.masked,
            sealed_subject=seal_subject(self.keyring, challenge_id, subject),
            sealed_delivery=seal_delivery(self.keyring, challenge_id, delivery),
            code_digest=self.keyring.code_digest(challenge_id, code),
            created_at=now,
            expires_at=now + self.settings.code_lifetime,
            next_send_at=now + self.settings.resend_cooldown,
            context_digest=self._binding_digest(context, action),
            locale=locale_text,
        )
        ip = self._short_text(client_ip, "client IP")
        if isinstance(destination, EmailAddress):
            budgets = self._email_budgets(subject_key, destination, purpose, ip)
        else:
            budgets = self._budgets(subject_key, destination, purpose, ip, channel)
        return StartPlan(record, destination, delivery, budgets)

    def _plan_voice(self, purpose: str, voice_sender: object) -> None:
        """A call goes only to a verified number, and only with a voice sender configured."""
        if purpose == "enroll":
            raise MalformedInput("A code is read out by phone only to a verified number.")
        if voice_sender is None:
            raise ConfigurationError("sender", "no voice sender (a sender with call()) is set")

    def _plan_resend(self, challenge_id: object, client_ip: object) -> str:
        """Check a resend's arguments before anything is counted; the client IP's text."""
        subject_key_of(challenge_id)
        return self._short_text(client_ip, "client IP")

    def _open_delivery(self, record: ChallengeRecord) -> Delivery:
        """What a resend of ``record`` needs in clear (ChallengeExpired if it does not open)."""
        return open_delivery(self.keyring, record)

    def view(self, record: ChallengeRecord, subject: str | None = None) -> Challenge:
        """The public :class:`Challenge` of a stored record (``subject``: its subject, known
        already; otherwise it is opened from the record)."""
        s = self.settings
        return Challenge(
            id=record.id,
            subject=self._subject_of(record, subject),
            purpose=record.purpose,
            status=record.status,
            masked_phone=record.masked_phone,
            attempts_left=max(0, s.max_attempts - record.attempts),
            sends_left=max(0, s.max_sends - record.sends),
            expires_at=record.expires_at,
            resend_at=record.next_send_at,
            bound_to_context=bool(record.context_digest),
        )

    @staticmethod
    def _expected_purpose(purpose: object) -> str:
        if purpose not in PURPOSES:
            raise MalformedInput(f"The purpose must be one of {sorted(PURPOSES)}.")
        return str(purpose)

    def _refuse_other_purpose(
        self, outcome: Outcome, expected: str, subject: str | None, factor: str = "sms"
    ) -> None:
        """A challenge started for another purpose answers like an unknown one: "expired"
        (the store counted no attempt and compared no code). The event names the mismatch."""
        record = outcome.record
        if expected and outcome.result is Result.EXPIRED and record is not None:
            raise self._refused(
                record, subject, ChallengeExpired(), factor, expected_purpose=expected
            )

    def _visible(self, record: ChallengeRecord | None, subject: object) -> ChallengeRecord:
        if record is None or (subject is not None and not self._owns(record.id, subject)):
            raise ChallengeExpired()
        if record.status is Status.PENDING and self.clock() >= record.expires_at:
            raise ChallengeExpired()
        return record
