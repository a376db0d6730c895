"""``gate.totp`` and ``gate.recovery`` of ``AsyncVerifier``: ``verifier_factors.py`` with
``await``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .challenge import Verification
from .codes import generate_recovery_code
from .credentials import (
    TotpCredential,
)
from .events import EventName
from .totp import TotpEnrollment, enrollment, new_secret, secret_key_bytes

if TYPE_CHECKING:
    from .aio import AsyncVerifier


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
