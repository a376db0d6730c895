"""``gate.passkeys``: list, rename and remove a subject's passkeys (sync and async).

Adding one is ``gate.setup(subject, "webauthn", name=...)`` then ``gate.verify(...,
purpose="enroll")``. Renaming and removing change the subject's factors: the caller first
decides that the session may (``otpgate.core.web.manage_error``: a fresh second factor),
as for every other factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import MalformedInput
from ..events import EventName
from ..i18n import N_

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..credentials import PasskeyCredential
    from ..engine import BaseVerifier
    from ..verifier import Verifier

_MAX_ID = 1366  # base64url of WebAuthn's longest credential id (1023 bytes)
#: The longest name a passkey may have (a page's ``maxlength``).
NAME_LENGTH = 64
_NAME_LENGTH = NAME_LENGTH
#: Why a name is refused (English msgid; the pages show it translated).
NAME_RULE = N_("A passkey's name is 1 to 64 printable characters.")
#: The message of the ``FactorNotEnrolled`` a page raises when ``rename``/``remove`` found
#: no such passkey (English msgid).
NO_SUCH_PASSKEY = N_("No such passkey.")
#: The notice after a passkey was renamed (English msgid).
RENAMED_NOTICE = N_("Passkey renamed.")


def _credential_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID or not value.isascii():
        raise MalformedInput("The passkey id is malformed.")
    return value


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _NAME_LENGTH:
        raise MalformedInput(NAME_RULE)
    if not value.isprintable():
        raise MalformedInput(NAME_RULE)
    return value.strip()


def _changed(gate: BaseVerifier, subject: str, event: EventName, done: bool) -> bool:
    if done:
        gate._emit(event, subject, factor="webauthn")
    return done


class Passkeys:
    """The subject's passkeys on the synchronous ``Verifier``."""

    def __init__(self, gate: Verifier) -> None:
        self._gate = gate

    def list(self, subject: str) -> list[PasskeyCredential]:
        """The subject's passkeys, oldest first (names, dates, counters; no secret)."""
        return self._gate.credentials.passkeys(self._gate._subject(subject))

    def rename(self, subject: str, credential_id: str, name: str) -> bool:
        """Give a passkey a new name; False if the subject has no such passkey."""
        gate, subject = self._gate, self._gate._subject(subject)
        done = gate.credentials.rename_passkey(subject, _credential_id(credential_id), _name(name))
        return _changed(gate, subject, EventName.FACTOR_RENAMED, done)

    def remove(self, subject: str, credential_id: str) -> bool:
        """Remove a passkey; False if the subject has no such passkey."""
        gate, subject = self._gate, self._gate._subject(subject)
        done = gate.credentials.remove_passkey(subject, _credential_id(credential_id))
        if done:
            gate.devices.revoke_all(subject, reason="factors_changed")
        return _changed(gate, subject, EventName.FACTOR_REMOVED, done)


class AsyncPasskeys:
    """:class:`Passkeys` on ``AsyncVerifier``."""

    def __init__(self, gate: AsyncVerifier) -> None:
        self._gate = gate

    async def list(self, subject: str) -> list[PasskeyCredential]:
        """The subject's passkeys, oldest first (names, dates, counters; no secret)."""
        return await self._gate.credentials.passkeys(self._gate._subject(subject))

    async def rename(self, subject: str, credential_id: str, name: str) -> bool:
        """Give a passkey a new name; False if the subject has no such passkey."""
        gate, subject = self._gate, self._gate._subject(subject)
        done = await gate.credentials.rename_passkey(
            subject, _credential_id(credential_id), _name(name)
        )
        return _changed(gate, subject, EventName.FACTOR_RENAMED, done)

    async def remove(self, subject: str, credential_id: str) -> bool:
        """Remove a passkey; False if the subject has no such passkey."""
        gate, subject = self._gate, self._gate._subject(subject)
        done = await gate.credentials.remove_passkey(subject, _credential_id(credential_id))
        if done:
            await gate.devices.revoke_all(subject, reason="factors_changed")
        return _changed(gate, subject, EventName.FACTOR_REMOVED, done)
