"""Adding and removing factors on the management pages: one flow for every factor.

Each integration has ONE set of views (add, verify the code, remove), parametrised by the
factor's name; this module holds what they share, so none of them names a factor in its
control flow:

- :data:`ADDRESS_FACTORS` / :func:`address_kind`: the factors added by typing an address a
  code is sent to (``sms``: a phone number, ``email``: an address), with the form field,
  the page (template and URL prefix) and the session slot of the code being checked;
  adding goes through ``gate.setup`` and ``gate.verify(..., purpose="enroll")``;
- :func:`removable` / :func:`aremovable`: what the user could remove of a factor, each item
  named for the confirmation page (masked), and :func:`remove_factor` /
  :func:`aremove_factor` doing it: both ask the registered factor
  (:class:`~otpgate.core.factors.removal.RemovableFactor`), so a site's own factor that
  implements it is listed and removed like the shipped ones;
- :func:`removal_step`: the decision before a removal: ask for confirmation (a POST without
  :data:`CONFIRM_FIELD` never removes), refuse the last factor of a user who must keep one,
  or remove;
- :func:`added_notice`, :func:`removed_notice`, :data:`RECOVERY_CODES_NOTICE`,
  :data:`DEVICE_FORGOTTEN_NOTICE`: the success notices (English msgids; each integration
  translates them and shows them once: Django messages, Flask ``flash``);
- :func:`removal_texts`: the confirmation page's heading and explanation;
  :data:`REMOVAL_PAGES` / :func:`page_of`: the name of each factor's pages (URLs, templates);
  :func:`not_chosen`: the error when a removal names nothing the user has; :func:`not_found`
  when it names, by its id, an item the user does not have.

Nothing here does I/O but :func:`removable` / :func:`remove_factor` (and their async twins),
through the verifier they are handed.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..errors import LastFactor, MalformedInput, OtpgateError, PasskeyNotFound, UnknownFactor
from ..i18n import N_
from .removal import Removable as Removable
from .removal import RemovableFactor

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..verifier import Verifier

#: The form field a removal must carry (the confirmation page's button sends it); without
#: it a POST to a removal URL shows the confirmation page and removes nothing.
CONFIRM_FIELD = "confirm"

#: What :func:`removal_step` decided: show the confirmation page, or remove.
RemovalStep = Literal["confirm", "remove"]


@dataclass(frozen=True)
class AddressKind:
    """A factor added by typing an address a code is sent to."""

    #: The factor (``gate.setup`` / ``gate.verify`` name).
    factor: str
    #: The pages' name: templates ``otpgate/<page>_add.html`` (Django), URL prefix ``/<page>``.
    page: str
    #: The form field holding the address.
    field: str
    #: The longest value kept to show in the form again.
    max_length: int

    @property
    def slot(self) -> str:
        """The session key of the code being checked while this factor is added."""
        return f"_otpgate_{self.factor}_enroll"


ADDRESS_FACTORS: Mapping[str, AddressKind] = {
    "sms": AddressKind("sms", "phone", "phone", 64),
    "email": AddressKind("email", "email", "email", 254),
}


def address_kind(factor: str) -> AddressKind:
    """The address factor called ``factor``; MalformedInput if it is not one."""
    found = ADDRESS_FACTORS.get(factor)
    if found is None:
        raise MalformedInput()
    return found


_ADDED = {
    "sms": N_("Phone number verified."),
    "email": N_("Email address verified."),
    "totp": N_("Authenticator app set up."),
    "webauthn": N_("Passkey added."),
}
_REMOVED = {
    "sms": N_("Phone number removed."),
    "email": N_("Email address removed."),
    "totp": N_("Authenticator app removed."),
    "webauthn": N_("Passkey removed."),
}
#: After new recovery codes were made (the old ones stop working).
RECOVERY_CODES_NOTICE = N_("New recovery codes made. The old ones no longer work.")
#: After a remembered device was forgotten.
DEVICE_FORGOTTEN_NOTICE = N_("The device will be asked for a code again.")
#: After every remembered device was forgotten.
DEVICES_FORGOTTEN_NOTICE = N_("Every device will be asked for a code again.")


def added_notice(factor: str) -> str:
    """The notice (English msgid) after ``factor`` was added."""
    return _ADDED.get(factor, N_("Two-step verification method added."))


def removed_notice(factor: str) -> str:
    """The notice (English msgid) after ``factor`` was removed."""
    return _REMOVED.get(factor, N_("Two-step verification method removed."))


@dataclass(frozen=True)
class RemovalTexts:
    """The confirmation page's heading and what removing means (English msgids)."""

    title: str
    explanation: str


_REMOVAL_TEXTS = {
    "sms": RemovalTexts(
        N_("Remove a phone number"), N_("You will no longer get codes at this number.")
    ),
    "email": RemovalTexts(
        N_("Remove an email address"), N_("You will no longer get codes at this address.")
    ),
    "totp": RemovalTexts(
        N_("Remove the authenticator app"),
        N_("You will no longer be able to use codes from your authenticator app."),
    ),
    "webauthn": RemovalTexts(
        N_("Remove a passkey"),
        N_(
            "You will no longer be able to use this passkey to verify it's you. The passkey "
            "stays on your device until you delete it there."
        ),
    ),
}


def removal_texts(factor: str) -> RemovalTexts:
    """The confirmation page's texts for ``factor``."""
    return _REMOVAL_TEXTS.get(
        factor,
        RemovalTexts(
            N_("Remove a way to verify"), N_("You will no longer be able to use it to sign in.")
        ),
    )


def _removal_of(gate: Verifier | AsyncVerifier, factor: str) -> RemovableFactor | None:
    """The registered factor called ``factor`` if it can be removed, else None."""
    try:
        found = gate.registry.get(factor)
    except UnknownFactor:
        return None
    return found if isinstance(found, RemovableFactor) else None


def removable(gate: Verifier, subject: str, factor: str) -> list[Removable]:
    """What ``subject`` could remove of ``factor``, in the order the pages list it."""
    found = _removal_of(gate, factor)
    return found.removable(gate, subject) if found is not None else []


async def aremovable(gate: AsyncVerifier, subject: str, factor: str) -> list[Removable]:
    """:func:`removable` on the async verifier."""
    found = _removal_of(gate, factor)
    return await found.aremovable(gate, subject) if found is not None else []


def remove_factor(gate: Verifier, subject: str, item: Removable) -> bool:
    """Remove ``item`` (sends ``factor_removed``); True if something was removed."""
    found = _removal_of(gate, item.factor)
    if found is None:
        raise MalformedInput()
    return found.remove(gate, subject, item.ref)


async def aremove_factor(gate: AsyncVerifier, subject: str, item: Removable) -> bool:
    """:func:`remove_factor` on the async verifier."""
    found = _removal_of(gate, item.factor)
    if found is None:
        raise MalformedInput()
    return await found.aremove(gate, subject, item.ref)


def confirmed(value: object) -> bool:
    """True if the confirmation field holds a yes (the button's ``1``, a checkbox's ``on``,
    JSON ``true``)."""
    return value is True or value in ("1", "on", "true")


def removal_step(
    *, confirmed: bool, required: bool, primary_count: int, removes_primary: bool = True
) -> RemovalStep | OtpgateError:
    """What a request to remove a factor leads to: ``"confirm"`` (show the confirmation
    page; nothing is removed without it), LastFactor (a user who must use a second factor
    would be left without one: ``required`` and no other primary factor), or ``"remove"``.
    ``removes_primary``: the item counts as a primary factor (an unconfirmed app does not)."""
    if required and removes_primary and primary_count - 1 < 1:
        return LastFactor()
    return "remove" if confirmed else "confirm"


#: The factors the management pages remove, each with the name of its pages (the removal URL
#: ``/<page>/remove`` in Flask, a site's own ``otpgate/<page>_remove.html``).
REMOVAL_PAGES: Mapping[str, str] = {
    "sms": "phone",
    "email": "email",
    "totp": "totp",
    "webauthn": "passkey",
}


def page_of(factor: str) -> str:
    """The name of ``factor``'s pages (``otpgate/<page>_remove.html`` a site may provide)."""
    return REMOVAL_PAGES.get(factor, factor)


_CHOOSE = {
    "sms": N_("Choose a phone number to remove."),
    "email": N_("Choose an email address to remove."),
    "webauthn": N_("Choose a passkey to remove."),
}


def handle_of(gate: Verifier | AsyncVerifier, subject: str, item: Removable) -> str:
    """A handle naming ``item`` of ``subject`` on a confirmation page (a keyed digest: it
    reveals neither the number nor the address, and still names the same item when the
    list changed between the page and its POST, unlike a place in the list)."""
    return gate.keyring.digest("removal", subject, item.factor, item.ref)


def by_handle(
    gate: Verifier | AsyncVerifier, subject: str, items: list[Removable], handle: object
) -> list[Removable]:
    """The item of ``items`` that ``handle`` names (under any configured key), or none."""
    if not isinstance(handle, str) or not handle or len(handle) > 64:
        return []
    for item in items:
        digests = gate.keyring.digests("removal", subject, item.factor, item.ref)
        if any(hmac.compare_digest(handle, digest) for digest in digests):
            return [item]
    return []


def not_chosen(factor: str) -> MalformedInput:
    """The error when a removal names nothing of ``factor`` the user has."""
    text = _CHOOSE.get(factor)
    return MalformedInput(text) if text else MalformedInput()


def not_found(factor: str) -> OtpgateError:
    """The error when a removal names by its id an item the user does not have: for a passkey
    :class:`~otpgate.core.errors.PasskeyNotFound` (404, as renaming one answers), else as
    :func:`not_chosen`."""
    return PasskeyNotFound() if factor == "webauthn" else not_chosen(factor)
