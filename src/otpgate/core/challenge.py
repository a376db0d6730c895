"""Challenges (one SMS verification in progress) and verifications (a factor passed)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .errors import ChallengeExpired, MalformedInput

PURPOSES = frozenset({"login", "enroll", "action", "transaction"})

# "<subject key>.<nonce>": the subject key (a keyed digest of the subject) lets a store find
# the subject's lockout state from the id alone, and keeps one subject's keys in one slot.
_ID = re.compile(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}", re.ASCII)
_MAX_ID_LENGTH = 128


class Status(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    CANCELED = "canceled"
    EXPIRED = "expired"
    MAX_ATTEMPTS_REACHED = "max_attempts_reached"
    FAILED = "failed"


def new_challenge_id(subject_key: str) -> str:
    return f"{subject_key}.{secrets.token_urlsafe(16)}"


def subject_key_of(challenge_id: object) -> str:
    """The subject key inside ``challenge_id``; ChallengeExpired for ids we never issued."""
    if not isinstance(challenge_id, str) or len(challenge_id) > _MAX_ID_LENGTH:
        raise MalformedInput("The challenge id is malformed.")
    if not _ID.fullmatch(challenge_id):
        raise ChallengeExpired()
    return challenge_id.split(".", 1)[0]


@dataclass(frozen=True)
class ChallengeRecord:
    """What a store keeps of a challenge: nothing personal, and not the code, in clear.

    ``sealed_subject`` is the subject and ``sealed_delivery`` what a send needs (the phone
    number, the code and the transaction summary), each sealed with the keyring (AES-GCM)
    and bound to the challenge id (see ``sealed.py``). The code is also a keyed digest (what
    a check compares), the number also masked (for views and events).
    """

    id: str
    purpose: str
    masked_phone: str
    sealed_subject: str = field(repr=False)
    sealed_delivery: str = field(repr=False)
    code_digest: str = field(repr=False)
    created_at: float
    expires_at: float
    next_send_at: float
    context_digest: str = ""
    locale: str = ""
    status: Status = Status.PENDING
    attempts: int = 0
    sends: int = 1


def channel_of(record: ChallengeRecord) -> str:
    """The factor a challenge delivers a code for: ``email`` when it goes to an address
    (its masked destination holds an ``@``), else ``sms``."""
    return "email" if "@" in record.masked_phone else "sms"


@dataclass(frozen=True)
class Challenge:
    """The public view of a challenge: safe to show, log and return from an API."""

    id: str
    subject: str
    purpose: str
    status: Status
    masked_phone: str
    attempts_left: int
    sends_left: int
    expires_at: float
    resend_at: float
    bound_to_context: bool
    #: What the browser needs to answer it (a passkey's request or creation options, JSON
    #: with base64url bytes, for ``PublicKeyCredential.parse*OptionsFromJSON``); None for a
    #: code sent by SMS.
    browser_options: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Verification:
    """Proof that ``subject`` passed ``factor`` ("sms", "voice", "totp", "webauthn",
    "recovery", or one a site registered) at ``verified_at``."""

    subject: str
    purpose: str
    factor: str
    verified_at: float
    challenge_id: str | None = None
    context_digest: str = ""
