"""``sms``: a code sent by text message to a verified number (or to one being added).

The only built-in factor that delivers something and that carries a transaction's details
to the user itself: the summary is in the message (PSD2's dynamic linking).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..phone import mask
from .base import SentCode, StartRequest
from .removal import Removable

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Challenge
    from ..credentials import Factors
    from ..verifier import Verifier


class SmsFactor(SentCode):
    """A one-time code by SMS; ``gate.start`` sends it, ``gate.verify`` checks it."""

    name = "sms"
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"phones"})
    rank = 20
    purposes = frozenset({"login", "action", "transaction", "enroll"})
    binds_details = True

    def enrolled(self, factors: Factors) -> bool:
        return bool(factors.masked_phones)

    def destination(self, factors: Factors) -> str:
        return factors.masked_phones[0] if factors.masked_phones else ""

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        return gate.start_sms(
            subject,
            request.destination,
            purpose=request.purpose,
            context=request.context,
            client_ip=request.client_ip,
            locale=request.locale,
            summary=request.summary,
            action=request.action,
        )

    async def astart(
        self, gate: AsyncVerifier, subject: str, request: StartRequest
    ) -> Challenge | None:
        return await gate.start_sms(
            subject,
            request.destination,
            purpose=request.purpose,
            context=request.context,
            client_ip=request.client_ip,
            locale=request.locale,
            summary=request.summary,
            action=request.action,
        )

    def removable(self, gate: Verifier, subject: str) -> list[Removable]:
        """The subject's verified numbers, masked."""
        return [Removable(self.name, e164, mask(e164)) for e164 in gate.credentials.phones(subject)]

    async def aremovable(self, gate: AsyncVerifier, subject: str) -> list[Removable]:
        phones = await gate.credentials.phones(subject)
        return [Removable(self.name, e164, mask(e164)) for e164 in phones]

    def remove(self, gate: Verifier, subject: str, ref: str) -> bool:
        return gate.remove_phone(subject, ref)

    async def aremove(self, gate: AsyncVerifier, subject: str, ref: str) -> bool:
        return await gate.remove_phone(subject, ref)
