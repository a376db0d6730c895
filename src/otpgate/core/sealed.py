"""How a challenge keeps what is personal: sealed, bound to the challenge, opened on demand.

A store (``MemoryStore``, Redis, or yours) only ever holds a :class:`ChallengeRecord` made
here, so every store holds the same protected form and none sees a key. Two values are
sealed with the keyring (AES-GCM), each with the challenge id and its name as associated
data, so it opens only as what it was sealed as, in the challenge it was sealed for:

- the subject (a check needs it to say who passed, unless the caller names the subject);
- the delivery: the phone number, the code, the transaction summary and the channel (SMS or
  a voice call: what a send, and the approval of an enrollment, need).

Each code path opens only what it needs: a check opens nothing when the caller names the
subject (the subject key the challenge id starts with proves it), the subject otherwise,
and never the number; a resend opens both, a delivery receipt the delivery (its channel
names the factor of the event it tells). A value that does not open (sealed under a key
no longer configured, or damaged) makes the challenge expired: it fails closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .challenge import ChallengeRecord
from .crypto import DecryptionError, Keyring
from .errors import ChallengeExpired

logger = logging.getLogger("otpgate")


@dataclass(frozen=True)
class Delivery:
    """What one send needs in clear (and the subject, for its events)."""

    subject: str
    phone: str
    code: str
    summary: str
    #: How the code is delivered: ``sms`` (a text) or ``voice`` (a call to the same number).
    channel: str = "sms"


def _open(keyring: Keyring, token: str, challenge_id: str, name: str) -> str:
    try:
        return keyring.open(token, context=f"{challenge_id}\x1f{name}")
    except DecryptionError:
        logger.warning("otpgate could not open a challenge's sealed %s: treated as expired", name)
        raise ChallengeExpired() from None


def seal_subject(keyring: Keyring, challenge_id: str, subject: str) -> str:
    return keyring.seal(subject, context=f"{challenge_id}\x1fsubject")


def seal_delivery(keyring: Keyring, challenge_id: str, delivery: Delivery) -> str:
    # Neither an E.164 number nor a code holds a space; the summary is the rest. Another
    # channel than SMS goes in front of the number (``voice:+33…``); an SMS is as it was.
    phone = delivery.phone if delivery.channel == "sms" else f"{delivery.channel}:{delivery.phone}"
    text = f"{phone} {delivery.code} {delivery.summary}"
    return keyring.seal(text, context=f"{challenge_id}\x1fdelivery")


def open_subject(keyring: Keyring, record: ChallengeRecord) -> str:
    """The subject of ``record``; ChallengeExpired if it does not open."""
    return _open(keyring, record.sealed_subject, record.id, "subject")


def open_delivery(
    keyring: Keyring, record: ChallengeRecord, subject: str | None = None
) -> Delivery:
    """What a send of ``record`` needs; ``subject`` if known, else opened too."""
    phone, code, summary = _open(keyring, record.sealed_delivery, record.id, "delivery").split(
        " ", 2
    )
    if subject is None:
        subject = open_subject(keyring, record)
    channel, _, number = phone.rpartition(":")
    return Delivery(subject, number, code, summary, channel or "sms")
