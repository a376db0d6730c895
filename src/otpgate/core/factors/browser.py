"""Factors the browser answers (``InputSpec.kind == "browser"``: a passkey), for pages.

A page never names such a factor: it asks these helpers. A browser-answered factor is started
whenever its page is shown (the start hands over the options the browser needs; its challenge
is single use, so every page gets a new one), and the code a page posts for it is the JSON
the browser returned. Its challenge is kept apart from a sent code's (a session may hold an
SMS code while its user tries a passkey), under :data:`SESSION_KEY`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from ..errors import OtpgateError

if TYPE_CHECKING:
    from ..challenge import Challenge
    from ..settings import Settings
    from .base import FactorOption
    from .registry import FactorRegistry

#: Where a session keeps the challenges its browser-answered factors were started with.
SESSION_KEY = "_otpgate_browser"


def answered_by_browser(option: FactorOption | None) -> bool:
    """True if the page renders a button for ``option`` and the browser answers it."""
    return option is not None and option.input.kind == "browser"


def named_factor_answered_by_browser(
    registry: FactorRegistry, settings: Settings, name: object
) -> bool:
    """:func:`answered_by_browser` for the factor called ``name`` (False if there is none)."""
    try:
        factor = registry.get(name)
    except OtpgateError:
        return False
    return factor.input_spec(settings).kind == "browser"


def options_of(challenge: Challenge | None) -> dict[str, Any] | None:
    """The options the browser needs for ``challenge`` (None if it has none)."""
    options = getattr(challenge, "browser_options", None)
    return dict(options) if isinstance(options, Mapping) else None


def options_json(options: Mapping[str, Any] | None) -> str:
    """``options`` as JSON text for a form's ``data-otpgate-options`` ("" for none): what
    ``otpgate-webauthn.js`` hands the browser when the form is submitted."""
    return json.dumps(options, separators=(",", ":")) if options is not None else ""


def remember(session: MutableMapping[str, Any], slot: str, challenge: Challenge | None) -> None:
    """Keep ``challenge``'s id as this session's browser challenge for ``slot`` (a page:
    "login", "action", "enroll"); None forgets it."""
    kept = session.get(SESSION_KEY)
    slots: dict[str, str] = dict(kept) if isinstance(kept, Mapping) else {}
    if challenge is None:
        slots.pop(slot, None)
    else:
        slots[slot] = challenge.id
    session[SESSION_KEY] = slots


def recalled(session: Mapping[str, Any], slot: str) -> str:
    """The browser challenge this session keeps for ``slot`` ("" if none)."""
    kept = session.get(SESSION_KEY)
    value = kept.get(slot) if isinstance(kept, Mapping) else None
    return value if isinstance(value, str) else ""


def reopen_factor(
    registry: FactorRegistry,
    settings: Settings,
    token: str,
    challenge: Challenge | None,
    error: OtpgateError | None,
) -> str | None:
    """The factor a confirmation page must open again to show its button: the one ``token``
    names if the browser answers it and the page has no challenge for it (the last one was
    spent by a refused answer), unless the confirmation is over or cannot be made. Else None."""
    from ..confirmations import split_token
    from ..errors import FactorSetupRequired
    from ..transactions import TransactionExecuted

    if challenge is not None or not token:
        return None
    if isinstance(error, (TransactionExecuted, FactorSetupRequired)):
        return None
    try:
        factor = split_token(token)[0]
    except OtpgateError:
        return None
    return factor if named_factor_answered_by_browser(registry, settings, factor) else None
