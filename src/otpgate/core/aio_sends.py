"""``AsyncVerifier``'s sending side (SMS, voice and email codes): ``verifier_sends.py`` with
``await``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .aio_accounts import AsyncVerifierAccounts
from .challenge import Challenge, ChallengeRecord, subject_key_of
from .engine import StartPlan
from .errors import ConfigurationError
from .mailers import AsyncEmailSender
from .phone import PhoneNumber
from .policy import Budget
from .pumping import Watch
from .sealed import Delivery
from .senders import AsyncSender
from .simswap import AsyncSimSwapCheck
from .voice import AsyncVoiceSender


class AsyncVerifierSends(AsyncVerifierAccounts):
    """AsyncVerifier's sending side (mixed in): start, resend and deliver code challenges."""

    # Set by ``AsyncVerifier.__init__``.
    sender: AsyncSender
    voice_sender: AsyncVoiceSender | None
    sim_swap: AsyncSimSwapCheck

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
