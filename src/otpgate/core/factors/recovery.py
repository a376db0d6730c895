"""``recovery``: a single-use recovery code from the sheet shown at set-up.

A way back in when the phone or the app is lost: it may pass a sign-in or a step-up, never
confirm a transaction and never prove a factor being added. Starting it sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..codes import RECOVERY_CODE_LENGTH
from ..errors import PrimaryFactorRequired
from .base import CheckRequest, InputSpec, PassiveStart
from .setup import FactorSetup, SetupRequest

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Verification
    from ..credentials import Factors
    from ..settings import Settings
    from ..verifier import Verifier

_RECOVERY_INPUT = InputSpec(
    kind="text",
    length=RECOVERY_CODE_LENGTH,
    max_length=RECOVERY_CODE_LENGTH + 2,  # XXXX-XXXX-XXXX
    inputmode="text",
    autocomplete="off",
    # 8 to 12 letters or digits of any script, a dash or blank between any two: otpgate's
    # XXXX-XXXX-XXXX and imported codes (django-otp's 8). Valid with the ``v`` flag browsers
    # compile a pattern with (an unescaped ``-`` in a class is not, and the browser would
    # ignore the whole pattern); the core's check is the one that counts.
    pattern="[\\p{Nd}A-Za-z](?:[\\- ]?[\\p{Nd}A-Za-z]){7,11}",
)


class RecoveryCodeFactor(PassiveStart):
    """One unused recovery code of the subject; using it uses it up."""

    name = "recovery"
    #: A fallback used up by each use: never the factor a step opens on by choice.
    preferable = False
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"recovery"})
    rank = 10
    purposes = frozenset({"login", "action"})
    binds_details = False

    def input_spec(self, settings: Settings) -> InputSpec:
        return _RECOVERY_INPUT

    def enrolled(self, factors: Factors) -> bool:
        return factors.recovery_codes_left > 0

    def setup(self, gate: Verifier, subject: str, request: SetupRequest) -> FactorSetup:
        """A new sheet of codes (the old one stops working); only beside a primary factor
        (an app or a phone), which recovery codes stand in for."""
        if not gate.factors(subject).primary_count:
            raise PrimaryFactorRequired()
        return FactorSetup(
            self.name, needs_proof=False, codes=tuple(gate.recovery.generate(subject))
        )

    async def asetup(self, gate: AsyncVerifier, subject: str, request: SetupRequest) -> FactorSetup:
        if not (await gate.factors(subject)).primary_count:
            raise PrimaryFactorRequired()
        codes = await gate.recovery.generate(subject)
        return FactorSetup(self.name, needs_proof=False, codes=tuple(codes))

    def check(self, gate: Verifier, subject: str, code: str, request: CheckRequest) -> Verification:
        return gate.check_recovery(subject, code, purpose=request.purpose)

    async def acheck(
        self, gate: AsyncVerifier, subject: str, code: str, request: CheckRequest
    ) -> Verification:
        return await gate.check_recovery(subject, code, purpose=request.purpose)
