"""``AsyncVerifier``: ``Verifier`` with ``await``. Each method is plan → I/O → finish.

All decisions live in ``BaseVerifier``; this file and ``verifier.py`` differ only in ``await``.
Synchronous in-memory parts (``MemoryStore``, ``MemoryCredentials``, ``OutboxSender``) are
accepted and called directly: they never block.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .adapters import as_async
from .address import is_email
from .challenge import Challenge, ChallengeRecord, Verification, subject_key_of
from .codes import generate_recovery_code
from .credentials import (
    AsyncCredentials,
    Factors,
    MemoryCredentials,
    PasskeyCredential,
    TotpCredential,
)
from .device_service import AsyncRememberedDevices
from .engine import LOST_RACE, StartPlan
from .errors import ConfigurationError
from .events import EventName
from .factors import reads
from .factors.agate import AsyncFactorGate
from .factors.registry import FactorRegistry
from .factors.registry import registry as default_registry
from .factors.selection import has_factor
from .factors.webauthn_manage import AsyncPasskeys
from .guard import lift_key
from .mailers import AsyncEmailSender, EmailSender
from .memory_store import MemoryStore
from .passkey_settings import webauthn_configured
from .phone import PhoneNumber
from .policy import Budget
from .pumping import Block, Watch
from .sealed import Delivery
from .senders import AsyncSender, ConsoleSender, Sender
from .settings import Settings
from .simswap import AsyncNoSimSwapCheck, AsyncSimSwapCheck, SimSwapCheck
from .store import AsyncStore
from .totp import TotpEnrollment, enrollment, new_secret, secret_key_bytes
from .voice import AsyncVoiceSender, VoiceSender


class AsyncVerifier(AsyncFactorGate):
    """Starts and checks second-factor challenges. Thread-safe if its store and sender are.

    With no store, sender or credentials given it uses ``MemoryStore``, ``ConsoleSender``
    and ``MemoryCredentials``: fine for a demo, never for several processes.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: AsyncStore | MemoryStore | None = None,
        sender: AsyncSender | Sender | None = None,
        voice_sender: AsyncVoiceSender | VoiceSender | None = None,
        credentials: AsyncCredentials | MemoryCredentials | None = None,
        clock: Callable[[], float] = time.time,
        registry: FactorRegistry | None = None,
        sim_swap: AsyncSimSwapCheck | SimSwapCheck | None = None,
        email_sender: AsyncEmailSender | EmailSender | None = None,
    ) -> None:
        super().__init__(settings, clock=clock)
        #: Delivers email codes; None: the ``email`` factor is not offered.
        self.email_sender: AsyncEmailSender | None = (
            None if email_sender is None else as_async(email_sender, "email sender", "send_email")
        )
        #: The factors ``offer``, ``start`` and ``verify`` serve (default: the shared one).
        self.registry = registry if registry is not None else default_registry
        self.store: AsyncStore = as_async(store or MemoryStore(), "store", "check_code")
        self.sender: AsyncSender = as_async(sender or ConsoleSender(), "sender", "send")
        voice = voice_sender if voice_sender is not None else _caller(sender)
        #: What places voice calls (the ``voice`` factor): ``voice_sender``, else the sender
        #: if it can also call (``PhoneSender``); None: no calls, ``voice`` is not offered.
        self.voice_sender: AsyncVoiceSender | None = (
            as_async(voice, "voice sender", "call") if voice is not None else None
        )
        self.credentials: AsyncCredentials = as_async(
            credentials or MemoryCredentials(), "credentials", "phones"
        )
        self.sim_swap: AsyncSimSwapCheck = as_async(
            sim_swap or AsyncNoSimSwapCheck(), "sim_swap", "check"
        )
        self.totp = AsyncTotpFactor(self)
        self.recovery = AsyncRecoveryFactor(self)
        #: Remembered devices: skip the sign-in second step (``remember_device``).
        self.devices = AsyncRememberedDevices(self)
        #: The subject's passkeys: list, rename, remove.
        self.passkeys = AsyncPasskeys(self)

    # -- SMS challenges ---------------------------------------------------------------------

    async def start_sms(
        self,
        subject: str,
        phone: str | None = None,
        purpose: str = "login",
        context: Mapping[str, Any] | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
        summary: str | None = None,
        action: str | None = None,
    ) -> Challenge:
        """Send a code to ``phone`` (default: the subject's verified number).

        ``context`` (the details) and ``action`` (the operation that carries them out, short
        text) bind the code to a transaction; ``summary`` is shown in the SMS.
        Raises PhoneRejected, FactorNotEnrolled, SendLimitReached, LockedOut, DeliveryFailed
        (with ``.challenge_id``, so the user can resend), StorageUnavailable.
        """
        subject, purpose = self._plan_phone(subject, phone, purpose)
        known = await self.credentials.phones(subject)
        number = self._choose_phone(purpose, phone, known)
        plan = self._plan_start(
            subject, number, purpose, context, client_ip, locale, summary, action
        )
        return await self._start(plan, known)

    async def start_voice(
        self,
        subject: str,
        purpose: str = "login",
        context: Mapping[str, Any] | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
        action: str | None = None,
    ) -> Challenge:
        """Call the subject's verified number and read the code out, digit by digit, twice,
        in the language of ``locale`` (else of the number's region). The challenge is an SMS
        challenge in all but its channel: :meth:`check` and :meth:`resend` (a new call with
        the same code) serve it; each call also spends the tighter ``voice_budget``.
        Raises what :meth:`start_sms` raises, and ConfigurationError without a voice sender.
        """
        subject, purpose = self._plan_phone(subject, None, purpose)
        self._plan_voice(purpose, self.voice_sender)
        known = await self.credentials.phones(subject)
        number = self._choose_phone(purpose, None, known)
        plan = self._plan_start(
            subject, number, purpose, context, client_ip, locale, None, action, "voice"
        )
        return await self._start(plan, known)

    async def _start(self, plan: StartPlan, known: list[str]) -> Challenge:
        await self._spend(
            plan.budgets,
            plan.record.created_at,
            plan.delivery.subject,
            plan.record.purpose,
            plan.phone.masked,
        )
        if isinstance(plan.phone, PhoneNumber) and self._sim_swap_due(  # not for email
            plan.record.purpose, plan.phone, known
        ):
            answer = await self.sim_swap.check(plan.phone.e164, self.settings.sim_swap_max_age)
            self._finish_sim_swap(answer, plan)
        now = plan.record.created_at
        self._finish_created(
            await self.store.create_challenge(
                plan.record, subject_key_of(plan.record.id), now, self.lockout
            ),
            plan,
        )
        return await self._send(plan.record, plan.delivery)

    async def resend(self, challenge_id: str, client_ip: str | None = None) -> Challenge:
        """Send the same code again; the wait before the next resend doubles each time."""
        ip = self._plan_resend(challenge_id, client_ip)
        now = self.clock()
        record = self._finish_reserved(
            await self.store.reserve_send(
                challenge_id, now, self.settings.resend_cooldown, self.settings.max_sends
            )
        )
        delivery = self._open_delivery(record)
        budgets = self._resend_budgets(record, delivery, ip)
        await self._spend(budgets, now, delivery.subject, record.purpose, record.masked_phone)
        return await self._send(record, delivery)

    async def start_email(
        self,
        subject: str,
        email: str | None = None,
        purpose: str = "login",
        context: Mapping[str, Any] | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
        summary: str | None = None,
        action: str | None = None,
    ) -> Challenge:
        """Email a code to ``email`` (default: the subject's verified address): the same
        policy as :meth:`start_sms` (checks, resends, budgets, lockout; ``resend`` and
        ``check`` serve it alike). Raises EmailRejected, FactorNotEnrolled, SendLimitReached,
        LockedOut, DeliveryFailed (with ``.challenge_id``), StorageUnavailable,
        ConfigurationError when no email sender is configured.
        """
        subject, purpose = self._plan_phone(subject, email, purpose)
        self._email_sender()
        known = await self._emails(subject)
        address = self._choose_email(purpose, email, known)
        plan = self._plan_email_start(
            subject, address, purpose, context, client_ip, locale, summary, action
        )
        return await self._start(plan, known)

    def _email_sender(self) -> AsyncEmailSender:
        if self.email_sender is None:
            raise self._no_email_sender()
        return self.email_sender

    async def _emails(self, subject: str, *, always: bool = False) -> list[str]:
        """The subject's verified addresses; none read (no query) without an email sender
        unless ``always``: a site that sends no email codes pays nothing for them."""
        reader = getattr(self.credentials, "emails", None)
        if self.email_sender is None and not always:
            return []
        return list(await reader(subject)) if reader is not None else []

    async def _spend(
        self,
        budgets: Sequence[Budget | Watch],
        now: float,
        subject: str,
        purpose: str,
        masked: str,
    ) -> None:
        """Spend the send's budgets and judge its ranges, with the verified codes buffered
        since this process's last send (put back if the store fails)."""
        entries = self._with_credits(budgets)
        try:
            denial = await self.store.spend_budgets(entries, now)
        except BaseException:
            self._restore_credits(entries)
            raise
        self._raise_for_denial(denial, subject, purpose, masked)

    async def _deliver(self, record: ChallengeRecord, delivery: Delivery) -> str:
        reference = self._reference(record)
        if delivery.channel == "email":
            message = self._email_for(record, delivery)
            return await self._email_sender().send_email(message, reference=reference)
        if delivery.channel == "voice":
            if self.voice_sender is None:
                raise ConfigurationError("sender", "no voice sender is set")
            speech = self._speech_for(record, delivery)
            return await self.voice_sender.call(delivery.phone, speech, reference=reference)
        text = self._text_for(record, delivery)
        return await self.sender.send(delivery.phone, text, reference=reference)

    async def _send(self, record: ChallengeRecord, delivery: Delivery) -> Challenge:
        try:
            message_id = await self._deliver(record, delivery)
        except Exception as error:  # any sender failure is a typed delivery error
            await self.store.mark_send_failed(record.id, self.clock())
            raise self._delivery_error(record, delivery.subject, error, delivery.channel) from None
        return self._finish_sent(record, delivery.subject, message_id, delivery.channel)

    async def check(
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
        outcome = await self.store.check_code(
            challenge_id,
            digest,
            context_digest,
            self.clock(),
            self.settings.max_attempts,
            self.lockout,
            expected,
        )
        factor = self._factor_of(outcome.record, factor)
        self._refuse_other_purpose(outcome, expected, subject, factor)
        withheld = self._withheld_enrollment(outcome, may_change_factors)
        if withheld is not None:
            self._refuse_enrollment_unless_first(
                withheld,
                has_factor(self.registry, await self.factors(self._subject_of(withheld, subject))),
                subject,
            )
        verification = self._finish_check(outcome, challenge_id, subject, factor)
        self._note_verified(outcome.record)
        if verification.purpose == "enroll" and outcome.record is not None:
            enrolled = self._enrolled_phone(outcome.record, verification.subject)
            if is_email(enrolled):
                await self.credentials.add_email(verification.subject, enrolled)  # type: ignore[attr-defined]
            else:
                await self.credentials.add_phone(verification.subject, enrolled)
            self._emit(
                EventName.FACTOR_ADDED,
                verification.subject,
                factor=verification.factor,
                challenge_id=challenge_id,
            )
            await self.devices.revoke_all(verification.subject, reason="factors_changed")
        return verification

    async def delivery_report(self, reference: str, status: str) -> None:
        """Record a gateway's receipt for the send named by ``reference`` (what the sender
        was given: ``<challenge id>~<send number>``, or a bare challenge id) with the status
        ``delivered``, ``failed`` or ``undelivered``.

        A failed delivery of the latest send marks the challenge ``failed`` and gives the
        resend cooldown back, so the user can resend at once or switch to another factor;
        a late failure report for an earlier send changes nothing.
        """
        challenge_id, send, failed = self._plan_receipt(reference, status)
        record = await self.store.get_challenge(challenge_id)
        if not self._receipt_counts(record, send):
            return
        if failed:
            await self.store.mark_send_failed(challenge_id, self.clock())
        self._finish_receipt(record, failed)

    async def get(self, challenge_id: str, subject: str | None = None) -> Challenge:
        """The challenge's public state; ChallengeExpired when it is gone or not ``subject``'s."""
        subject_key_of(challenge_id)
        record = self._visible(await self.store.get_challenge(challenge_id), subject)
        return self.view(record, subject)

    async def cancel(self, challenge_id: str) -> bool:
        subject_key_of(challenge_id)
        return bool(await self.store.cancel(challenge_id, self.clock()))

    async def factors(self, subject: str) -> Factors:
        """The subject's second factors: masked numbers, authenticator app, recovery codes."""
        subject = self._subject(subject)
        return self._factors(
            await self.credentials.phones(subject),
            await self.credentials.get_totp(subject),
            await self.credentials.recovery_codes_left(subject),
            await self._emails(subject),
            await self._passkeys_of(subject),
        )

    async def remove_email(self, subject: str, email: str) -> bool:
        """Remove a verified address (as stored or as typed); True if it was there."""
        subject = self._subject(subject)
        address = self._email_to_remove(email)
        remover = getattr(self.credentials, "remove_email", None)
        removed = bool(await remover(subject, address)) if remover is not None else False
        self._finish_removed(subject, "email", removed)
        if removed:
            await self.devices.revoke_all(subject, reason="factors_changed")
        return removed

    async def _passkeys_of(self, subject: str, *, every: bool = False) -> list[PasskeyCredential]:
        """The subject's passkeys: none read where passkeys are not configured (a site
        without them reads nothing more than before), unless ``every`` (a reset)."""
        reader = getattr(self.credentials, "passkeys", None)
        if reader is None or not (every or webauthn_configured(self.settings)):
            return []
        keys: list[PasskeyCredential] = await reader(subject)
        return keys

    async def remove_phone(self, subject: str, phone: str) -> bool:
        """Remove a verified number (E.164 or as typed); True if it was there."""
        subject = self._subject(subject)
        e164 = self._phone_to_remove(phone)
        removed = bool(await self.credentials.remove_phone(subject, e164))
        self._finish_removed(subject, "sms", removed, e164)
        if removed:
            await self.devices.revoke_all(subject, reason="factors_changed")
        return removed

    async def reset(self, subject: str) -> list[str]:
        """Remove every factor of ``subject`` and lift any lock (support's last resort);
        returns the kinds removed (``sms``, ``totp``, ``recovery``, ``webauthn``)."""
        subject = self._subject(subject)
        numbers = await self.credentials.phones(subject)
        phones = [await self.remove_phone(subject, p) for p in numbers]
        emails = [
            await self.remove_email(subject, a) for a in await self._emails(subject, always=True)
        ]
        totp, recovery = await self.totp.remove(subject), await self.recovery.remove(subject)
        keys = [
            await self.passkeys.remove(subject, key.credential_id)
            for key in await self._passkeys_of(subject, every=True)
        ]
        await self.unlock(subject)
        return self._kinds_removed(any(phones), totp, recovery, any(emails), any(keys))

    async def pumping_blocks(self) -> list[Block]:
        """The number ranges the SMS pumping guard blocks now."""
        return await self.store.pumping_blocks(self.clock())

    async def lift_pumping_block(self, prefix: str) -> bool:
        """Lift the block of ``prefix`` (``+44 7700``, or a country as ``+44``); False if
        it had none. ValueError for text that is not a prefix."""
        key, _ = lift_key(self.keyring, prefix)
        return await self.store.lift_pumping_block(key)

    async def unlock(self, subject: str) -> None:
        """Lift a lockout (soft or hard), e.g. after support verified the user."""
        await self.store.unlock(self.subject_key(self._subject(subject)))

    # -- authenticator app and recovery codes --------------------------------------------------

    async def check_totp(self, subject: str, code: str, purpose: str = "login") -> Verification:
        """Check an authenticator code; each time step is accepted once per subject."""
        subject, clean = self._plan_totp_check(subject, code)
        credential = reads.known_app(self, subject)  # read by this verify already?
        if isinstance(credential, reads.Unknown):
            credential = await self.credentials.get_totp(subject)
        step = self._totp_step(subject, clean, credential, confirmed=True)
        outcome = await self.store.settle_attempt(
            self.subject_key(subject), step is not None, self.clock(), self.lockout, step
        )
        verification = self._finish_subject_check(outcome, subject, "totp", purpose)
        if resealed := self._resealed(subject, credential):
            await self.credentials.set_totp(subject, resealed)  # key rotation, lazily
        return verification

    async def check_recovery(self, subject: str, code: str, purpose: str = "login") -> Verification:
        """Check a recovery code and use it up."""
        subject, digests = self._recovery_digests(subject, code)
        found = await self.credentials.has_recovery_code(subject, digests)
        outcome = await self.store.settle_attempt(
            self.subject_key(subject), found, self.clock(), self.lockout
        )
        verification = self._finish_subject_check(outcome, subject, "recovery", purpose)
        if not await self.credentials.use_recovery_code(subject, digests):
            self._finish_subject_check(LOST_RACE, subject, "recovery", purpose)
        return verification


class AsyncTotpFactor:
    """``gate.totp``: set up, confirm and remove an authenticator app."""

    def __init__(self, gate: AsyncVerifier) -> None:
        self._gate = gate

    async def enroll(
        self, subject: str, account: str | None = None, *, replace: bool = False
    ) -> TotpEnrollment:
        """A new secret for ``subject``; active once :meth:`confirm` sees a code from it."""
        gate = self._gate
        subject = gate._subject(subject)
        current = await gate.credentials.get_totp(subject)
        gate._check_can_enroll(current, replace)
        secret = new_secret(gate.settings)
        sealed = gate.keyring.seal(secret_key_bytes(secret).hex(), context=subject)
        await gate.credentials.set_totp(subject, TotpCredential(sealed, False, gate.clock()))
        return enrollment(secret, account or subject, gate.settings)

    async def confirm(self, subject: str, code: str) -> Verification:
        """Activate the enrolled secret with a code the app shows."""
        gate = self._gate
        subject, clean = gate._plan_totp_check(subject, code)
        credential = await gate.credentials.get_totp(subject)
        step = gate._totp_step(subject, clean, credential, confirmed=False)
        outcome = await gate.store.settle_attempt(
            gate.subject_key(subject), step is not None, gate.clock(), gate.lockout, step
        )
        verification = gate._finish_subject_check(outcome, subject, "totp", "enroll")
        assert credential is not None
        await gate.credentials.set_totp(
            subject, TotpCredential(credential.sealed_secret, True, credential.created_at)
        )
        gate._emit(EventName.FACTOR_ADDED, subject, factor="totp")
        await gate.devices.revoke_all(subject, reason="factors_changed")
        return verification

    async def pending(self, subject: str, account: str | None = None) -> TotpEnrollment | None:
        """The unconfirmed set-up of ``subject`` again (to redisplay its QR), or None."""
        gate = self._gate
        subject = gate._subject(subject)
        return gate._pending_enrollment(
            subject, await gate.credentials.get_totp(subject), account or subject
        )

    async def remove(self, subject: str) -> bool:
        gate = self._gate
        removed = await gate.credentials.remove_totp(gate._subject(subject))
        if removed:
            gate._emit(EventName.FACTOR_REMOVED, subject, factor="totp")
            await gate.devices.revoke_all(subject, reason="factors_changed")
        return removed

    async def is_enrolled(self, subject: str) -> bool:
        credential = await self._gate.credentials.get_totp(self._gate._subject(subject))
        return credential is not None and credential.confirmed


class AsyncRecoveryFactor:
    """``gate.recovery``: recovery codes, shown once and stored as keyed digests."""

    def __init__(self, gate: AsyncVerifier) -> None:
        self._gate = gate

    async def generate(self, subject: str) -> list[str]:
        """New codes for ``subject``; the old set stops working. Show these once."""
        gate = self._gate
        subject = gate._subject(subject)
        codes = [generate_recovery_code() for _ in range(gate.settings.recovery_code_count)]
        digests = [gate.keyring.digest("recovery", subject, c.replace("-", "")) for c in codes]
        await gate.credentials.replace_recovery_codes(subject, digests)
        gate._emit(EventName.FACTOR_ADDED, subject, factor="recovery")
        await gate.devices.revoke_all(subject, reason="factors_changed")
        return codes

    async def remove(self, subject: str) -> bool:
        """Void every recovery code of ``subject``; True if any was left."""
        gate = self._gate
        subject = gate._subject(subject)
        had = await gate.credentials.recovery_codes_left(subject) > 0
        await gate.credentials.replace_recovery_codes(subject, [])
        gate._finish_removed(subject, "recovery", had)
        if had:
            await gate.devices.revoke_all(subject, reason="factors_changed")
        return had

    async def remaining(self, subject: str) -> int:
        return await self._gate.credentials.recovery_codes_left(self._gate._subject(subject))


def _caller(sender: object) -> Any:
    """``sender`` if it can also place calls (a ``PhoneSender``), else None."""
    return sender if callable(getattr(sender, "call", None)) else None
