"""``Decisions``: the verifiers' shared state (settings, keys, clock, events), input
validation, and every decision about a presented code, as pure code with no I/O. The
decisions about a subject's factors (removal, email choice, TOTP, recovery digests) are in
``factor_decisions.py`` (``FactorDecisions``, its base).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from .challenge import ChallengeRecord, Verification, channel_of, subject_key_of
from .codes import clean_numeric_code
from .context import canonical_context
from .crypto import Keyring
from .errors import (
    ChallengeExpired,
    CodeReplayed,
    ContextMismatch,
    FreshOtpRequired,
    InvalidCode,
    LockedOut,
    MalformedInput,
    MaxAttemptsReached,
    OtpgateError,
)
from .events import Event, EventBus, EventName, Listener
from .factor_decisions import FactorDecisions
from .message import check_sms_settings
from .policy import LockoutPolicy, Outcome, Result
from .pumping import Credits
from .sealed import open_delivery, open_subject
from .settings import Settings

logger = logging.getLogger("otpgate")

_MAX_SUBJECT = 255
_MAX_SHORT_TEXT = 64
_MAX_ACTION = 200
_SUBJECT_KEY_CACHE = 4096

#: The answer when a recovery code matched but another request used it first.
LOST_RACE = Outcome(Result.INVALID)


def _surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Decisions(FactorDecisions):
    """Settings, keys, clock and events, and the pure decisions about presented codes."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.keyring = Keyring(settings.secret_keys)
        self.lockout = LockoutPolicy.from_settings(settings)
        self.events = EventBus()
        self.clock = clock
        self._subject_keys: dict[str, str] = {}
        #: Verified codes per watched range, sent with the next send (see core/pumping.py).
        self._credits = Credits()
        check_sms_settings(settings)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every :class:`Event`; returns an unsubscribe function."""
        return self.events.subscribe(listener)

    # -- validation ---------------------------------------------------------------------------

    @staticmethod
    def _subject(subject: object) -> str:
        if not isinstance(subject, str) or not subject or len(subject) > _MAX_SUBJECT:
            raise MalformedInput("The subject must be a non-empty string of at most 255 chars.")
        if not subject.isprintable() or _surrogates(subject):
            raise MalformedInput("The subject must be printable Unicode text.")
        return subject

    def subject_key(self, subject: str) -> str:
        """The keyed digest that stands for ``subject`` in store keys and challenge ids."""
        key = self._subject_keys.get(subject)
        if key is None:
            if len(self._subject_keys) >= _SUBJECT_KEY_CACHE:
                self._subject_keys.clear()
            key = self._subject_keys[subject] = self.keyring.digest("subject", subject)
        return key

    def _owns(self, challenge_id: str, subject: object) -> bool:
        """True if ``subject`` is the one whose key the challenge id starts with."""
        return (
            isinstance(subject, str)
            and 0 < len(subject) <= _MAX_SUBJECT
            and self.subject_key(subject) == subject_key_of(challenge_id)
        )

    def _subject_of(self, record: ChallengeRecord, subject: str | None) -> str:
        """The record's subject: ``subject`` if the caller named it (it owns the challenge:
        checked already), otherwise opened from the record."""
        return open_subject(self.keyring, record) if subject is None else subject

    def _enrolled_phone(self, record: ChallengeRecord, subject: str) -> str:
        """The number an approved enrollment challenge verified, in clear."""
        return open_delivery(self.keyring, record, subject).phone

    @staticmethod
    def _short_text(value: object, what: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > _MAX_SHORT_TEXT:
            raise MalformedInput(f"The {what} must be a short string.")
        return value

    def _emit(self, name: EventName, subject: str, **fields: Any) -> None:
        if self.events:  # no listener (the common case on a hot path): nothing to build
            self.events.emit(Event(name=name, subject=subject, at=self.clock(), **fields))

    # -- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _action(action: object) -> str:
        """``action`` as bound text ("" for none): 1 to 200 printable characters."""
        if action is None:
            return ""
        if not isinstance(action, str) or not action or len(action) > _MAX_ACTION:
            raise MalformedInput("The action must be a non-empty string of at most 200 chars.")
        if not action.isprintable() or _surrogates(action):
            raise MalformedInput("The action must be printable Unicode text.")
        return action

    def _binding_digest(self, context: Mapping[str, Any] | None, action: object) -> str:
        """The one digest a code is bound to: the action and the transaction's details.

        The only place a binding is made, for starting and for checking alike. With neither
        a context nor an action the code is unbound (""); a context alone keeps the digest it
        always had; with an action, the action's text is part of it, so a code sent for one
        action fails ``context_mismatch`` on any other, even with the same details.
        """
        action_text = self._action(action)
        if context is None and not action_text:
            return ""
        details = "" if context is None else canonical_context(context)
        if not action_text:
            return self.keyring.digest("context", details)
        # canonical JSON escapes control characters and an action is printable, so the
        # parts cannot run into each other across the digest's separator
        return self.keyring.digest("context+action", action_text, details)

    def _plan_check(
        self,
        challenge_id: object,
        code: object,
        context: Mapping[str, Any] | None,
        subject: object,
        action: object = None,
    ) -> tuple[str, str, str, str | None]:
        """(challenge id, code digest, binding digest, the caller's subject or None)."""
        key = subject_key_of(challenge_id)
        assert isinstance(challenge_id, str)
        if subject is not None:
            subject = self._subject(subject)
            if self.subject_key(subject) != key:
                raise ChallengeExpired()
        clean = clean_numeric_code(code, self.settings.code_digits)
        digest = self.keyring.code_digest(challenge_id, clean)
        return challenge_id, digest, self._binding_digest(context, action), subject

    @staticmethod
    def _withheld_enrollment(outcome: Outcome, may_change_factors: bool) -> ChallengeRecord | None:
        """The record of an approved ``enroll`` challenge whose caller did not say the session
        may change factors (its number is added only if the subject has no factor yet)."""
        record = outcome.record
        if may_change_factors or outcome.result is not Result.APPROVED or record is None:
            return None
        return record if record.purpose == "enroll" else None

    def _refuse_enrollment_unless_first(
        self, record: ChallengeRecord, has_factor: bool, subject: str | None
    ) -> None:
        """A number is added only by a session that may change factors, or as the subject's
        first factor: otherwise FreshOtpRequired."""
        if not has_factor:
            return
        raise self._refused(
            record, subject, FreshOtpRequired(max_age=self.settings.step_up_max_age)
        )

    def _refused(
        self,
        record: ChallengeRecord,
        subject: str | None,
        error: OtpgateError,
        factor: str = "sms",
        **detail: str,
    ) -> OtpgateError:
        """``error``, after a ``verification_failed`` event for ``record`` that names why."""
        self._emit(
            EventName.VERIFICATION_FAILED,
            self._subject_of(record, subject),
            factor=factor,
            purpose=record.purpose,
            challenge_id=record.id,
            detail={"reason": error.code, **detail},
        )
        return error

    @staticmethod
    def _factor_of(record: ChallengeRecord | None, factor: str) -> str:
        """The factor a check of ``record`` names: ``email`` for a code sent to an address
        (whatever the caller said), else the caller's (``sms`` or ``voice``: one machinery)."""
        if record is not None and channel_of(record) == "email":
            return "email"
        return "sms" if factor == "email" else factor

    def _finish_check(
        self,
        outcome: Outcome,
        challenge_id: str,
        subject: str | None,
        factor: str = "sms",
        at: float | None = None,
    ) -> Verification:
        """The verification of an approved check (dated ``at``, else now), or its error."""
        record = outcome.record
        who = "" if record is None else self._subject_of(record, subject)
        if outcome.result is Result.APPROVED and record is not None:
            self._emit(
                EventName.CHALLENGE_APPROVED,
                who,
                factor=factor,
                purpose=record.purpose,
                challenge_id=challenge_id,
                masked_phone=record.masked_phone,
            )
            return Verification(
                who,
                record.purpose,
                factor,
                self.clock() if at is None else at,
                challenge_id,
                record.context_digest,
            )
        self._raise_failure(outcome, factor, subject=who, challenge_id=challenge_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_failure(self, outcome: Outcome, factor: str, **fields: Any) -> None:
        """Emit the failure's events and raise its error. Never returns."""
        subject = fields.pop("subject", "")
        error: OtpgateError
        if outcome.result is Result.LOCKED or outcome.locked_now:
            error = LockedOut(retry_after=outcome.retry_after)
        elif outcome.result is Result.MAX_ATTEMPTS:
            error = MaxAttemptsReached()
        elif outcome.result is Result.CONTEXT_MISMATCH:
            error = ContextMismatch()
        elif outcome.result is Result.REPLAYED:
            error = CodeReplayed()
        elif outcome.result is Result.INVALID:
            error = InvalidCode(attempts_left=outcome.attempts_left)
        else:
            error = ChallengeExpired()
        if outcome.result is not Result.LOCKED:
            self._emit(
                EventName.VERIFICATION_FAILED,
                subject,
                factor=factor,
                detail={"reason": error.code},
                **fields,
            )
        if outcome.result is Result.REPLAYED:
            self._emit(EventName.REPLAY_DETECTED, subject, factor=factor, **fields)
        if outcome.result is Result.MAX_ATTEMPTS:
            self._emit(EventName.CHALLENGE_FAILED, subject, factor=factor, **fields)
        if outcome.locked_now:
            self._emit(
                EventName.SUBJECT_LOCKED,
                subject,
                factor=factor,
                detail={"retry_after": error.retry_after},
                **fields,
            )
        raise error

    def _finish_subject_check(
        self, outcome: Outcome, subject: str, factor: str, purpose: str, at: float | None = None
    ) -> Verification:
        if outcome.result is Result.APPROVED:
            return Verification(subject, purpose, factor, self.clock() if at is None else at)
        self._raise_failure(outcome, factor, subject=subject)
        raise AssertionError("unreachable")  # pragma: no cover
