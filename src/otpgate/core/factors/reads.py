"""What ``gate.verify`` reads of a subject's factors: only what the chosen factor needs.

Checking a code needs to know one thing of the subject's factors: that they have the factor
named (else FactorNotEnrolled). Reading every kind (numbers, app, recovery codes, addresses,
passkeys) for that costs a verify request one query per kind, so a factor may declare which
kinds its :meth:`~otpgate.core.factors.base.Factor.enrolled` looks at (``reads``, a frozenset
of :data:`KINDS`); the snapshot then holds those and nothing else (the rest empty). It is
used for that decision only, never shown or fingerprinted. A factor that declares nothing
(a custom one) gets the full snapshot, as before; proving a factor being added (``enroll``)
reads nothing, since the subject need not have it.

What was read stays known for the rest of that one ``verify`` call (:func:`reading`): the
authenticator app's check uses the credential the enrollment test just read instead of
reading it again, so a right app code costs one read of the factors, not two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..credentials import Factors, TotpCredential
    from ..verifier import Verifier

#: The kinds of factor data a repository holds.
KINDS = frozenset({"phones", "totp", "recovery", "emails", "passkeys"})

#: The app credential read by the running ``verify``: (verifier, subject, credential).
_APP_READ: ContextVar[tuple[object, str, TotpCredential | None] | None] = ContextVar(
    "otpgate_app_read", default=None
)


class Unknown:
    """:func:`known_app`'s answer when the running ``verify`` did not read the credential."""


UNKNOWN = Unknown()


def kinds_of(factor: object, purpose: str) -> frozenset[str] | None:
    """The kinds ``factor`` needs read to decide whether the subject has it for
    ``purpose``; None: all of them (it declares nothing, or something unknown)."""
    if purpose == "enroll":
        return frozenset()
    reads = getattr(factor, "reads", None)
    if isinstance(reads, frozenset) and reads <= KINDS:
        return reads
    return None


def known_app(gate: object, subject: str) -> TotpCredential | Unknown | None:
    """The app credential (or None) the running ``verify`` of ``gate`` read for
    ``subject``; :data:`UNKNOWN` outside one, or for another verifier or subject."""
    found = _APP_READ.get()
    if found is None or found[0] is not gate or found[1] != subject:
        return UNKNOWN
    return found[2]


@contextmanager
def reading(gate: Verifier, subject: str, factor: object, purpose: str) -> Iterator[Factors]:
    """The subject's snapshot with only the kinds ``factor`` needs for ``purpose``; the
    app credential read for it is known (:func:`known_app`) inside the block."""
    kinds = kinds_of(factor, purpose)
    if kinds is None:
        yield gate.factors(subject)
        return
    found = gate.credentials
    app = found.get_totp(subject) if "totp" in kinds else None
    token = _APP_READ.set((gate, subject, app) if "totp" in kinds else None)
    try:
        yield gate._factors(
            found.phones(subject) if "phones" in kinds else [],
            app,
            found.recovery_codes_left(subject) if "recovery" in kinds else 0,
            gate._emails(subject) if "emails" in kinds else [],
            gate._passkeys_of(subject) if "passkeys" in kinds else [],
            fingerprinted=False,
        )
    finally:
        _APP_READ.reset(token)


@asynccontextmanager
async def areading(
    gate: AsyncVerifier, subject: str, factor: object, purpose: str
) -> AsyncIterator[Factors]:
    """:func:`reading` on the async verifier."""
    kinds = kinds_of(factor, purpose)
    if kinds is None:
        yield await gate.factors(subject)
        return
    found = gate.credentials
    app = await found.get_totp(subject) if "totp" in kinds else None
    token = _APP_READ.set((gate, subject, app) if "totp" in kinds else None)
    try:
        yield gate._factors(
            await found.phones(subject) if "phones" in kinds else [],
            app,
            await found.recovery_codes_left(subject) if "recovery" in kinds else 0,
            await gate._emails(subject) if "emails" in kinds else [],
            await gate._passkeys_of(subject) if "passkeys" in kinds else [],
            fingerprinted=False,
        )
    finally:
        _APP_READ.reset(token)
