"""Confirming a transaction with any factor that may confirm one: what the integrations call.

``Confirmations`` (on a :class:`~otpgate.Verifier`) and ``AsyncConfirmations`` (on an
:class:`~otpgate.AsyncVerifier`) add the factor model to :mod:`otpgate.core.executions`:

1. ``open(subject, action, details)`` when the page (or the API's 401) shows the details:
   it picks the factor (the caller's choice, else the subject's preferred one among those
   ``settings.transaction_factors`` allows), starts it (an SMS carries the details; an app
   sends nothing) and records the transaction as pending on a server-side challenge bound to
   the subject, the details and the action. The :class:`PendingConfirmation` it returns has
   the ``token`` the page or the client sends back with the code.
2. ``confirm(subject, action, details, token, code)``: the factor checks the code (an SMS
   code against its challenge, which is bound to the details; an app code against the app)
   and the pending record is claimed for this caller alone. A code for other details or
   another action finds no pending record (or a challenge bound to something else) and is
   refused. A failed execution is retried with the same code, or a new app code, within the
   challenge's lifetime; an executed one answers its recorded outcome.
3. ``settle`` as in :class:`~otpgate.core.executions.Executions`.

With no factor that may confirm it, ``open`` raises :class:`FactorSetupRequired`: the page or
the API then points to adding one.

Only a state-changing request (:data:`STATE_CHANGING`: POST, PUT, PATCH, DELETE) may confirm a
transaction: ``open`` takes the request's ``method`` and refuses any other (GET, HEAD,
OPTIONS, TRACE: a link preview, a crawler, a prefetch) with :class:`MethodNotAllowed` (405,
``Allow: POST, PUT, PATCH, DELETE``) before anything is sent, spent or recorded. The
integrations check :func:`require_state_changing` first, so a safe request never resends,
cancels or confirms one either.

The pure parts both classes share (that rule, the token, :class:`PendingConfirmation`, the
answers to a retry) are in :mod:`otpgate.core.confirmation_parts`; this module re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .challenge import Challenge, Verification
from .confirmation_parts import PURPOSE as PURPOSE
from .confirmation_parts import SEPARATOR as SEPARATOR
from .confirmation_parts import STATE_CHANGING as STATE_CHANGING
from .confirmation_parts import PendingConfirmation as PendingConfirmation
from .confirmation_parts import _approved, _chosen, _options, _racing, _reference, _settle_retry
from .confirmation_parts import require_state_changing as require_state_changing
from .confirmation_parts import split_token as split_token
from .errors import ChallengeExpired, CodeReplayed, MalformedInput
from .executions import AsyncExecutions, Executions, _raise_for
from .transactions import Step, TxStep


class Confirmations(Executions):
    """Transactions confirmed by any factor that may confirm one, executed exactly once."""

    def open(
        self,
        subject: str,
        action: str,
        details: Mapping[str, Any],
        *,
        method: str,
        factor: str | None = None,
        summary: str | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
    ) -> PendingConfirmation:
        """Start confirming ``details`` for ``action`` on a request of ``method`` (see the
        module's docs): MethodNotAllowed for a safe method, before anything is sent."""
        require_state_changing(method)
        gate = self.verifier
        key = self.key(subject, action, details)
        self.guard(key)
        options = _options(gate.offer(subject, PURPOSE), PURPOSE)
        name = _chosen(options, factor)
        challenge = gate.start(
            subject,
            name,
            purpose=PURPOSE,
            context=details,
            action=action,
            client_ip=client_ip,
            locale=locale,
            summary=summary,
        )
        reference, expires_at = _reference(challenge, gate.clock(), gate.settings)
        _raise_for(self._step(key, TxStep(Step.BEGIN, reference, expires_at=expires_at)))
        return PendingConfirmation(
            f"{name}{SEPARATOR}{reference}", name, expires_at, challenge, options
        )

    def pending(self, subject: str, token: str) -> Challenge | None:
        """What a sending factor sent for ``token`` (to show again), else None."""
        factor, reference = split_token(token)
        if not self.verifier.registry.get(factor).sends:
            return None
        return self.verifier.get(reference, subject=subject)

    def resend(self, subject: str, token: str, *, client_ip: str | None = None) -> Challenge:
        """Send the same code again (a factor that sends); the challenge after it."""
        factor, reference = split_token(token)
        if not self.verifier.registry.get(factor).sends:
            raise MalformedInput("This factor has nothing to send again.")
        self.verifier.get(reference, subject=subject)  # someone else's: expired
        return self.verifier.resend(reference, client_ip=client_ip)

    def _sent(self, subject: str, factor: str, reference: str) -> Challenge | None:
        """The challenge a sending factor sent (to read its status), else None."""
        if not self.verifier.registry.get(factor).sends:
            return None
        try:
            return self.verifier.get(reference, subject=subject)
        except ChallengeExpired:
            return None

    def confirm_code(
        self, subject: str, action: str, details: Mapping[str, Any], token: str, code: str
    ) -> Verification:
        """Check ``code`` for the transaction ``token`` names and claim its execution."""
        factor, reference = split_token(token)
        key = self.key(subject, action, details)
        try:
            verification = self.verifier.verify(
                subject,
                factor,
                code,
                purpose=PURPOSE,
                challenge_id=reference,
                context=details,
                action=action,
            )
        except (ChallengeExpired, CodeReplayed) as spent:
            result = self._step(key, self._claim(reference, code, fresh=False))
            if _racing(result) and not _approved(self._sent(subject, factor, reference)):
                raise spent from None
            _settle_retry(result, spent)
            return Verification(subject, PURPOSE, factor, self.verifier.clock(), reference)
        approve = TxStep(Step.APPROVE, reference, self._proof(reference, code))
        _raise_for(self._step(key, approve))
        return verification

    def cancel_transaction(self, subject: str, action: str, details: Mapping[str, Any]) -> bool:
        """The user gave up: cancel it if it is pending (or failed)."""
        return self.cancel(self.key(subject, action, details))


class AsyncConfirmations(AsyncExecutions):
    """:class:`Confirmations` on an :class:`~otpgate.AsyncVerifier` (every method awaits)."""

    async def open(
        self,
        subject: str,
        action: str,
        details: Mapping[str, Any],
        *,
        method: str,
        factor: str | None = None,
        summary: str | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
    ) -> PendingConfirmation:
        """:meth:`Confirmations.open`."""
        require_state_changing(method)
        gate = self.verifier
        key = self.key(subject, action, details)
        await self.guard(key)
        options = _options(await gate.offer(subject, PURPOSE), PURPOSE)
        name = _chosen(options, factor)
        challenge = await gate.start(
            subject,
            name,
            purpose=PURPOSE,
            context=details,
            action=action,
            client_ip=client_ip,
            locale=locale,
            summary=summary,
        )
        reference, expires_at = _reference(challenge, gate.clock(), gate.settings)
        _raise_for(await self._step(key, TxStep(Step.BEGIN, reference, expires_at=expires_at)))
        return PendingConfirmation(
            f"{name}{SEPARATOR}{reference}", name, expires_at, challenge, options
        )

    async def pending(self, subject: str, token: str) -> Challenge | None:
        """:meth:`Confirmations.pending`."""
        factor, reference = split_token(token)
        if not self.verifier.registry.get(factor).sends:
            return None
        return await self.verifier.get(reference, subject=subject)

    async def resend(self, subject: str, token: str, *, client_ip: str | None = None) -> Challenge:
        """:meth:`Confirmations.resend`."""
        factor, reference = split_token(token)
        if not self.verifier.registry.get(factor).sends:
            raise MalformedInput("This factor has nothing to send again.")
        await self.verifier.get(reference, subject=subject)
        return await self.verifier.resend(reference, client_ip=client_ip)

    async def _sent(self, subject: str, factor: str, reference: str) -> Challenge | None:
        """:meth:`Confirmations._sent`."""
        if not self.verifier.registry.get(factor).sends:
            return None
        try:
            return await self.verifier.get(reference, subject=subject)
        except ChallengeExpired:
            return None

    async def confirm_code(
        self, subject: str, action: str, details: Mapping[str, Any], token: str, code: str
    ) -> Verification:
        """:meth:`Confirmations.confirm_code`."""
        factor, reference = split_token(token)
        key = self.key(subject, action, details)
        try:
            verification = await self.verifier.verify(
                subject,
                factor,
                code,
                purpose=PURPOSE,
                challenge_id=reference,
                context=details,
                action=action,
            )
        except (ChallengeExpired, CodeReplayed) as spent:
            result = await self._step(key, self._claim(reference, code, fresh=False))
            if _racing(result) and not _approved(await self._sent(subject, factor, reference)):
                raise spent from None
            _settle_retry(result, spent)
            return Verification(subject, PURPOSE, factor, self.verifier.clock(), reference)
        approve = TxStep(Step.APPROVE, reference, self._proof(reference, code))
        _raise_for(await self._step(key, approve))
        return verification

    async def cancel_transaction(
        self, subject: str, action: str, details: Mapping[str, Any]
    ) -> bool:
        """:meth:`Confirmations.cancel_transaction`."""
        return await self.cancel(self.key(subject, action, details))
