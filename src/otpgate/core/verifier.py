"""``Verifier``: the synchronous entry point. Each method is plan → I/O → finish.

``AsyncVerifier`` (in ``aio.py``) is this file with ``await``; all decisions live in
``BaseVerifier``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from .address import is_email
from .challenge import Challenge, Verification, subject_key_of
from .credentials import Credentials, MemoryCredentials
from .device_service import RememberedDevices
from .events import EventName
from .factors.registry import FactorRegistry
from .factors.registry import registry as default_registry
from .factors.selection import has_factor
from .factors.webauthn_manage import Passkeys
from .mailers import EmailSender
from .memory_store import MemoryStore
from .policy import Result
from .senders import ConsoleSender, Sender
from .settings import Settings
from .simswap import NoSimSwapCheck, SimSwapCheck
from .state_write import answered, claim_check, final_check, store_keywords
from .store import Store
from .verifier_factors import RecoveryFactor, TotpFactor
from .verifier_sends import VerifierSends
from .voice import VoiceSender


class Verifier(VerifierSends):
    """Starts and checks second-factor challenges. Thread-safe if its store and sender are.

    With no store, sender or credentials given it uses ``MemoryStore``, ``ConsoleSender``
    and ``MemoryCredentials``: fine for a demo, never for several processes.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        sender: Sender | None = None,
        voice_sender: VoiceSender | None = None,
        credentials: Credentials | None = None,
        clock: Callable[[], float] = time.time,
        registry: FactorRegistry | None = None,
        sim_swap: SimSwapCheck | None = None,
        email_sender: EmailSender | None = None,
    ) -> None:
        super().__init__(settings, clock=clock)
        #: Delivers email codes; None: the ``email`` factor is not offered.
        self.email_sender = email_sender
        #: The factors ``offer``, ``start`` and ``verify`` serve (default: the shared one).
        self.registry = registry if registry is not None else default_registry
        self.store: Store = store if store is not None else MemoryStore()
        self.sender = sender if sender is not None else ConsoleSender()
        #: What places voice calls (the ``voice`` factor): ``voice_sender``, else the sender
        #: if it can also call (``PhoneSender``); None: no calls, ``voice`` is not offered.
        self.voice_sender: VoiceSender | None = (
            voice_sender if voice_sender is not None else _caller(sender)
        )
        self.credentials = credentials if credentials is not None else MemoryCredentials()
        #: Asked before a code goes to a number on file (``Settings.sim_swap_max_age``).
        self.sim_swap: SimSwapCheck = sim_swap if sim_swap is not None else NoSimSwapCheck()
        self.totp = TotpFactor(self)
        self.recovery = RecoveryFactor(self)
        #: Remembered devices: skip the sign-in second step (``remember_device``).
        self.devices = RememberedDevices(self)
        #: The subject's passkeys: list, rename, remove.
        self.passkeys = Passkeys(self)

    @final_check
    def check(
        self,
        challenge_id: str,
        code: str,
        context: Mapping[str, Any] | None = None,
        subject: str | None = None,
        action: str | None = None,
        *,
        may_change_factors: bool = True,
        purpose: str | None = None,
        factor: str = "sms",
    ) -> Verification:
        """Check ``code``; pass the same ``context`` and ``action`` the challenge was started
        with (other details or another action: ContextMismatch, and the attempt counts).

        ``subject`` (recommended) refuses challenges that belong to someone else. A right
        code for an ``enroll`` challenge adds its number to the subject's factors; web
        integrations pass ``may_change_factors`` (see :func:`otpgate.core.web.manage_error`):
        False refuses such a code with FreshOtpRequired (the challenge is spent) unless the
        subject has no factor yet, so only a fresh session can add a number.

        ``purpose`` (what the caller is checking for: ``login``, ``action``, ...) refuses a
        challenge started for another purpose as ChallengeExpired, without counting an
        attempt or looking at the code, in the same one round trip. :meth:`verify` always
        passes it. ``factor``: the factor the verification and its events name (``voice``
        for a code read out by phone; a code sent to an address always names ``email``).
        """
        challenge_id, digest, context_digest, subject = self._plan_check(
            challenge_id, code, context, subject, action
        )
        expected = "" if purpose is None else self._expected_purpose(purpose)
        # verify(then_put=): the write rides on the check where its approval is final
        fold = claim_check(self, subject, expected)
        outcome = self.store.check_code(
            challenge_id,
            digest,
            context_digest,
            self.clock() if fold is None else fold.now,
            self.settings.max_attempts,
            self.lockout,
            expected,
            **store_keywords(fold),
        )
        answered(fold, outcome.result is Result.APPROVED)
        factor = self._factor_of(outcome.record, factor)
        self._refuse_other_purpose(outcome, expected, subject, factor)
        withheld = self._withheld_enrollment(outcome, may_change_factors)
        if withheld is not None:
            self._refuse_enrollment_unless_first(
                withheld,
                has_factor(self.registry, self.factors(self._subject_of(withheld, subject))),
                subject,
            )
        at = None if fold is None else fold.now
        verification = self._finish_check(outcome, challenge_id, subject, factor, at)
        self._note_verified(outcome.record)
        if verification.purpose == "enroll" and outcome.record is not None:
            enrolled = self._enrolled_phone(outcome.record, verification.subject)
            if is_email(enrolled):
                self.credentials.add_email(verification.subject, enrolled)  # type: ignore[attr-defined]
            else:
                self.credentials.add_phone(verification.subject, enrolled)
            self._emit(
                EventName.FACTOR_ADDED,
                verification.subject,
                factor=verification.factor,
                challenge_id=challenge_id,
            )
            self.devices.revoke_all(verification.subject, reason="factors_changed")
        return verification

    def delivery_report(self, reference: str, status: str) -> None:
        """Record a gateway's receipt for the send named by ``reference`` (what the sender
        was given: ``<challenge id>~<send number>``, or a bare challenge id) with the status
        ``delivered``, ``failed`` or ``undelivered``.

        A failed delivery of the latest send marks the challenge ``failed`` and gives the
        resend cooldown back, so the user can resend at once or switch to another factor;
        a late failure report for an earlier send changes nothing.
        """
        challenge_id, send, failed = self._plan_receipt(reference, status)
        record = self.store.get_challenge(challenge_id)
        if not self._receipt_counts(record, send):
            return
        if failed:
            self.store.mark_send_failed(challenge_id, self.clock())
        self._finish_receipt(record, failed)

    def get(self, challenge_id: str, subject: str | None = None) -> Challenge:
        """The challenge's public state; ChallengeExpired when it is gone or not ``subject``'s."""
        subject_key_of(challenge_id)
        record = self._visible(self.store.get_challenge(challenge_id), subject)
        return self.view(record, subject)

    def cancel(self, challenge_id: str) -> bool:
        subject_key_of(challenge_id)
        return bool(self.store.cancel(challenge_id, self.clock()))

    # -- authenticator app and recovery codes --------------------------------------------------


def _caller(sender: object) -> Any:
    """``sender`` if it can also place calls (a ``PhoneSender``), else None."""
    return sender if callable(getattr(sender, "call", None)) else None
