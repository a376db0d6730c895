"""``voice``: the code read out by a phone call to a verified number ("Call me instead").

A channel of the ``sms`` factor's number, not a factor of its own to enroll: the subject has
it exactly when they have a verified phone, and a verifier offers it only when it can place
calls (a voice sender, see ``otpgate.core.voice``). It is the alternative a page offers
after an SMS was started (``alternative_to = "sms"``), never the factor a step opens on. The
challenge is the SMS machinery's (same digest, checks and resend cooldown) with its own,
tighter budget; the transaction summary is not read out, so it serves sign-in and step-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import SentCode, StartRequest

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Challenge
    from ..credentials import Factors
    from ..verifier import Verifier


class VoiceFactor(SentCode):
    """A one-time code read out by phone; ``gate.start`` calls, ``gate.verify`` checks."""

    name = "voice"
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"phones"})
    rank = 15
    purposes = frozenset({"login", "action"})
    binds_details = False
    #: Offered as the way out of this factor's step ("Call me instead" after an SMS).
    alternative_to = "sms"

    def available(self, gate: Verifier | AsyncVerifier) -> bool:
        """True if ``gate`` can place calls (it has a voice sender)."""
        return getattr(gate, "voice_sender", None) is not None

    def enrolled(self, factors: Factors) -> bool:
        return bool(factors.masked_phones)

    def destination(self, factors: Factors) -> str:
        return factors.masked_phones[0] if factors.masked_phones else ""

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        return gate.start_voice(
            subject,
            purpose=request.purpose,
            context=request.context,
            client_ip=request.client_ip,
            locale=request.locale,
            action=request.action,
        )

    async def astart(
        self, gate: AsyncVerifier, subject: str, request: StartRequest
    ) -> Challenge | None:
        return await gate.start_voice(
            subject,
            purpose=request.purpose,
            context=request.context,
            client_ip=request.client_ip,
            locale=request.locale,
            action=request.action,
        )
