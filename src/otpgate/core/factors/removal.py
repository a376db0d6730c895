"""What a factor the user added can say about removing it (the management pages' removal).

A factor that can be removed implements :class:`RemovableFactor`: it lists what the subject
could remove of it (:class:`Removable` items, safe to show) and removes one, on either
verifier. :mod:`otpgate.core.factors.changes` dispatches through the registry to these
methods, so neither it nor an integration names a factor to remove one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..verifier import Verifier


@dataclass(frozen=True)
class Removable:
    """One thing of a factor the user may remove: ``ref`` is what the factor's ``remove``
    takes (a number, an address, a passkey id; "" for the app); ``shown`` is safe to show
    (masked, or the passkey's name)."""

    factor: str
    ref: str
    shown: str
    #: It counts as a primary factor (an unfinished app set-up does not).
    primary: bool = True


@runtime_checkable
class RemovableFactor(Protocol):
    """A factor the management pages may remove."""

    name: str

    def removable(self, gate: Verifier, subject: str) -> list[Removable]:
        """What ``subject`` could remove of this factor, in the order the pages list it."""
        ...

    async def aremovable(self, gate: AsyncVerifier, subject: str) -> list[Removable]:
        """:meth:`removable` on the async verifier."""
        ...

    def remove(self, gate: Verifier, subject: str, ref: str) -> bool:
        """Remove the item ``ref`` (sends ``factor_removed``); True if it was there."""
        ...

    async def aremove(self, gate: AsyncVerifier, subject: str, ref: str) -> bool:
        """:meth:`remove` on the async verifier."""
        ...
