"""One-time form tokens: a form that must act once per rendering (make new recovery codes).

Reloading the page a POST answered re-sends the POST. For a form whose effect voids what the
previous answer showed (new recovery codes void the set just saved), the form carries a token
issued when it is rendered (:func:`issue`) and the POST consumes it (:func:`consume`): a
resubmission, a reload or a double click finds its token already used and acts no more.

:func:`check` is what a view asks: None (act; the token is now used), ``"resent"`` (a token
this session already used: a reload or a resubmission) or ``"stale"`` (no token, an empty
one, or one this session never issued or no longer keeps: a page from an older template,
another session's form, a forged POST). The form acts only with a valid token.

Pure over any dict-like session (Django's ``request.session``, Flask's ``session``): tokens
are kept under :data:`SESSION_KEY`, a few per purpose (several tabs), as fresh lists so
session backends notice the change.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any, Literal

#: The session key holding ``{purpose: [token, ...]}``.
SESSION_KEY = "otpgate_once"
#: Tokens kept per purpose (the most recent renderings: a few open tabs).
KEPT = 5
#: The form field carrying the token.
FIELD = "once"

#: Why a POST must not act: sent again (its token was used) or without a token this session
#: knows (see the module's docstring).
Refusal = Literal["resent", "stale"]


def _tokens(session: MutableMapping[str, Any], purpose: str) -> list[str]:
    kept = session.get(SESSION_KEY)
    listed = kept.get(purpose) if isinstance(kept, dict) else None
    return [token for token in listed if isinstance(token, str)] if isinstance(listed, list) else []


def _store(session: MutableMapping[str, Any], purpose: str, tokens: list[str]) -> None:
    kept = session.get(SESSION_KEY)
    updated = dict(kept) if isinstance(kept, dict) else {}
    updated[purpose] = tokens[-KEPT:]
    session[SESSION_KEY] = updated


def issue(session: MutableMapping[str, Any], purpose: str) -> str:
    """A new token for one rendering of the ``purpose`` form, remembered in ``session``."""
    token = secrets.token_urlsafe(16)
    _store(session, purpose, [*_tokens(session, purpose), token])
    return token


def consume(session: MutableMapping[str, Any], purpose: str, token: object) -> bool:
    """Whether ``token`` was issued for ``purpose`` and not used yet; it is used up either way."""
    if not isinstance(token, str) or not token or len(token) > 64:
        return False
    tokens = _tokens(session, purpose)
    found = [kept for kept in tokens if _same(kept, token)]
    if not found:
        return False
    _store(session, purpose, [kept for kept in tokens if kept not in found])
    _store(session, _used(purpose), [*_tokens(session, _used(purpose)), token])
    return True


def _used(purpose: str) -> str:
    return purpose + "/used"


def check(session: MutableMapping[str, Any], purpose: str, token: object) -> Refusal | None:
    """Whether a POST of the ``purpose`` form may act: None if ``token`` (the value of the
    :data:`FIELD` field, None without it) was issued for it and unused (it is used now),
    else why not (:data:`Refusal`)."""
    if consume(session, purpose, token):
        return None
    usable = isinstance(token, str) and 0 < len(token) <= 64
    used = _tokens(session, _used(purpose)) if usable else []
    return "resent" if any(_same(kept, str(token)) for kept in used) else "stale"


def _same(kept: str, token: str) -> bool:
    """Constant-time equality; as bytes, so a non-ASCII token is unequal, not a TypeError."""
    return hmac.compare_digest(kept.encode(), token.encode("utf-8", "replace"))
