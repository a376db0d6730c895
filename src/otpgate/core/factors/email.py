"""``email``: a code sent by email to a verified address (or to one being added).

The same policy as ``sms`` (one challenge: digest-only code, checks, resends with the
doubling cooldown, budgets, the shared lockout); it carries a transaction's details to the
user itself (the summary is in the message). Offered only by a verifier that has an email
sender.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..address import mask_email
from .base import SentCode, StartRequest
from .removal import Removable

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Challenge
    from ..credentials import Factors
    from ..verifier import Verifier


class EmailFactor(SentCode):
    """A one-time code by email; ``gate.start`` sends it, ``gate.verify`` checks it."""

    name = "email"
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"emails"})
    rank = 15
    purposes = frozenset({"login", "action", "transaction", "enroll"})
    binds_details = True

    def available(self, gate: object) -> bool:
        """Only a verifier with an email sender offers it."""
        return getattr(gate, "email_sender", None) is not None

    def enrolled(self, factors: Factors) -> bool:
        return bool(factors.masked_emails)

    def destination(self, factors: Factors) -> str:
        return factors.masked_emails[0] if factors.masked_emails else ""

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        return gate.start_email(
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
        return await gate.start_email(
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
        """The subject's verified addresses, masked."""
        lister = getattr(gate.credentials, "emails", None)
        addresses: list[str] = list(lister(subject)) if lister is not None else []
        return [Removable(self.name, a, mask_email(a)) for a in addresses]

    async def aremovable(self, gate: AsyncVerifier, subject: str) -> list[Removable]:
        lister = getattr(gate.credentials, "emails", None)
        addresses: list[str] = list(await lister(subject)) if lister is not None else []
        return [Removable(self.name, a, mask_email(a)) for a in addresses]

    def remove(self, gate: Verifier, subject: str, ref: str) -> bool:
        return gate.remove_email(subject, ref)

    async def aremove(self, gate: AsyncVerifier, subject: str, ref: str) -> bool:
        return await gate.remove_email(subject, ref)
