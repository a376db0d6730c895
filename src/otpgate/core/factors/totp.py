"""``totp``: a code from an authenticator app. Starting it sends nothing.

For ``enroll`` a code from the app being set up confirms it (``gate.totp.confirm``); for a
transaction the verification carries the digest of the details and action the page showed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..state_write import final_check
from .base import CheckRequest, InputSpec, PassiveStart, numeric_input
from .removal import Removable
from .selection import change_refusal
from .setup import FactorSetup, SetupRequest

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Verification
    from ..credentials import Factors
    from ..settings import Settings
    from ..verifier import Verifier


class AuthenticatorFactor(PassiveStart):
    """A TOTP code (RFC 6238) from the subject's confirmed authenticator app."""

    name = "totp"
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"totp"})
    rank = 30
    purposes = frozenset({"login", "action", "transaction", "enroll"})
    binds_details = False

    def input_spec(self, settings: Settings) -> InputSpec:
        return numeric_input(settings.totp_digits)

    def enrolled(self, factors: Factors) -> bool:
        return factors.totp

    def setup(self, gate: Verifier, subject: str, request: SetupRequest) -> FactorSetup:
        """A new secret to scan; a code from the app then confirms it (``enroll``)."""
        enrollment = gate.totp.enroll(subject, request.label)
        return FactorSetup(self.name, needs_proof=True, enrollment=enrollment)

    async def asetup(self, gate: AsyncVerifier, subject: str, request: SetupRequest) -> FactorSetup:
        enrollment = await gate.totp.enroll(subject, request.label)
        return FactorSetup(self.name, needs_proof=True, enrollment=enrollment)

    @final_check
    def check(self, gate: Verifier, subject: str, code: str, request: CheckRequest) -> Verification:
        if request.purpose == "enroll":
            refusal = change_refusal(
                gate.factors(subject), request.may_change_factors, gate.settings, gate.registry
            )
            if refusal is not None:
                raise refusal
            return gate.totp.confirm(subject, code)
        binding = gate._binding_digest(request.context, request.action)
        verification = gate.check_totp(subject, code, purpose=request.purpose)
        return _bound(verification, binding)

    @final_check
    async def acheck(
        self, gate: AsyncVerifier, subject: str, code: str, request: CheckRequest
    ) -> Verification:
        if request.purpose == "enroll":
            refusal = change_refusal(
                await gate.factors(subject),
                request.may_change_factors,
                gate.settings,
                gate.registry,
            )
            if refusal is not None:
                raise refusal
            return await gate.totp.confirm(subject, code)
        binding = gate._binding_digest(request.context, request.action)
        verification = await gate.check_totp(subject, code, purpose=request.purpose)
        return _bound(verification, binding)

    def removable(self, gate: Verifier, subject: str) -> list[Removable]:
        """The app, set up or not (an unfinished set-up may be dropped too)."""
        pending = gate.credentials.get_totp(subject)
        return [Removable(self.name, "", "", primary=pending.confirmed)] if pending else []

    async def aremovable(self, gate: AsyncVerifier, subject: str) -> list[Removable]:
        pending = await gate.credentials.get_totp(subject)
        return [Removable(self.name, "", "", primary=pending.confirmed)] if pending else []

    def remove(self, gate: Verifier, subject: str, ref: str) -> bool:
        return gate.totp.remove(subject)

    async def aremove(self, gate: AsyncVerifier, subject: str, ref: str) -> bool:
        return await gate.totp.remove(subject)


def _bound(verification: Verification, binding: str) -> Verification:
    """``verification`` bound to ``binding`` (itself when it is already: an unbound check)."""
    if verification.context_digest == binding:
        return verification
    return dataclasses.replace(verification, context_digest=binding)
