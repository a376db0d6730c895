"""What the verifiers decide around a send, as pure code (mixed into ``BaseVerifier``): the
text, speech or email of a code, the errors and events after a start, a reservation, a send
or a failed one, and how a gateway's delivery receipt is read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .challenge import Challenge, ChallengeRecord, subject_key_of
from .decisions import Decisions
from .errors import (
    ChallengeExpired,
    DeliveryFailed,
    LockedOut,
    MalformedInput,
    ResendCooldown,
    SendLimitReached,
)
from .events import EventName
from .mail import EmailMessage, render_email
from .message import region_of, render_sms
from .policy import Outcome, Result
from .sealed import Delivery, open_delivery
from .voice import Speech, compose_speech

if TYPE_CHECKING:
    from .engine import StartPlan

logger = logging.getLogger("otpgate")

#: Between the challenge id and the send number in a sender's ``reference``.
SEND_SEPARATOR = "~"

#: Receipt statuses a gateway may report for a sent code.
DELIVERY_STATUSES = frozenset({"delivered", "failed", "undelivered"})


class DeliveryDecisions(Decisions):
    """Texts, outcomes, events and receipts of sends (no I/O)."""

    if TYPE_CHECKING:

        def view(self, record: ChallengeRecord, subject: str | None = None) -> Challenge: ...

    def _text_for(self, record: ChallengeRecord, delivery: Delivery) -> str:
        return render_sms(
            self.settings,
            delivery.code,
            locale=record.locale or None,
            summary=delivery.summary,
            region=region_of(delivery.phone),
        )

    def _speech_for(self, record: ChallengeRecord, delivery: Delivery) -> Speech:
        return compose_speech(
            self.settings,
            delivery.code,
            locale=record.locale or None,
            region=region_of(delivery.phone),
        )

    def _email_for(self, record: ChallengeRecord, delivery: Delivery) -> EmailMessage:
        return render_email(
            self.settings,
            delivery.phone,
            delivery.code,
            locale=record.locale or None,
            summary=delivery.summary,
        )

    def _finish_created(self, outcome: Outcome, plan: StartPlan) -> None:
        if outcome.result is Result.LOCKED:
            raise LockedOut(retry_after=outcome.retry_after)
        self._emit(
            EventName.CHALLENGE_STARTED,
            plan.delivery.subject,
            factor=plan.delivery.channel,
            purpose=plan.record.purpose,
            challenge_id=plan.record.id,
            masked_phone=plan.record.masked_phone,
        )

    def _finish_reserved(self, outcome: Outcome) -> ChallengeRecord:
        if outcome.result is Result.COOLDOWN:
            raise ResendCooldown(retry_after=outcome.retry_after)
        if outcome.result is Result.MAX_SENDS:
            raise SendLimitReached("challenge")
        if outcome.result is not Result.OK or outcome.record is None:
            raise ChallengeExpired()
        return outcome.record

    def _delivery_error(
        self, record: ChallengeRecord, subject: str, error: Exception, channel: str = "sms"
    ) -> DeliveryFailed:
        """The error to raise after a failed send (the store was told already)."""
        if isinstance(error, DeliveryFailed):
            failure = error  # keeps a gateway's own type and diagnostics
            failure.challenge_id = record.id
        else:
            logger.warning("otpgate sender raised %s", type(error).__name__)
            failure = DeliveryFailed(challenge_id=record.id)
        self._emit(
            EventName.DELIVERY_FAILED,
            subject,
            factor=channel,
            purpose=record.purpose,
            challenge_id=record.id,
            masked_phone=record.masked_phone,
        )
        return failure

    def _finish_sent(
        self, record: ChallengeRecord, subject: str, message_id: str, channel: str = "sms"
    ) -> Challenge:
        self._emit(
            EventName.CHALLENGE_SENT,
            subject,
            factor=channel,
            purpose=record.purpose,
            challenge_id=record.id,
            masked_phone=record.masked_phone,
            detail={"message_id": message_id, "send": record.sends},
        )
        return self.view(record, subject)

    @staticmethod
    def _reference(record: ChallengeRecord) -> str:
        """What a sender gets to name this send in its delivery receipt."""
        return f"{record.id}{SEND_SEPARATOR}{record.sends}"

    @staticmethod
    def _plan_receipt(reference: object, status: object) -> tuple[str, int | None, bool]:
        """(challenge id, send number or None, failed?) of a receipt for ``reference``."""
        if status not in DELIVERY_STATUSES:
            raise MalformedInput(f"A delivery status is one of {sorted(DELIVERY_STATUSES)}.")
        if not isinstance(reference, str):
            raise MalformedInput("The receipt reference is malformed.")
        challenge_id, _, send = reference.partition(SEND_SEPARATOR)
        subject_key_of(challenge_id)
        if send and not (send.isascii() and send.isdigit() and len(send) <= 3):
            raise MalformedInput("The receipt reference is malformed.")
        return challenge_id, int(send) if send else None, status != "delivered"

    @staticmethod
    def _receipt_counts(record: ChallengeRecord | None, send: int | None) -> bool:
        """A failed receipt for an older send must not fail a newer one that got through."""
        return record is not None and (send is None or send >= record.sends)

    def _finish_receipt(self, record: ChallengeRecord | None, failed: bool) -> None:
        if record is None:
            return
        try:
            delivery = open_delivery(self.keyring, record)
        except ChallengeExpired:
            return  # a record that does not open any more: no event to tell
        name = EventName.DELIVERY_FAILED if failed else EventName.CHALLENGE_DELIVERED
        self._emit(
            name,
            delivery.subject,
            factor=delivery.channel,
            purpose=record.purpose,
            challenge_id=record.id,
            masked_phone=record.masked_phone,
        )
