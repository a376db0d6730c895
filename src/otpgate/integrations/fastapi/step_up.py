"""Step-up tokens: a token's passed second factor, carried by the client, so a protected
request needs no store round trip.

Every route that passes a second factor answers an ``OTP-Step-Up`` header; a client that
sends it back (as the ``OTP-Step-Up`` request header) on a route behind
``gate.require_second_factor`` is let through from the header alone. Without it (or with
one that does not open, is stale, or belongs to another subject or session) the dependency
reads the token's step-up state from the store, as before: one round trip, never more.

What keeps it safe:

- It is sealed with the gate's keyring (AES-GCM, :meth:`~otpgate.core.crypto.Keyring.seal`):
  nobody can make or alter one without ``secret_keys``; removing a key from
  ``secret_keys`` voids every token sealed under it.
- It is bound to the session key (``gate.session_key``: by default the whole
  ``Authorization`` header) as the seal's associated data, and names its subject: it opens
  only on a request of the same token/session, for the same user.
- It says when the factor was passed and expires ``gate.state_ttl`` seconds later (the
  longest step-up ``max_age`` of the app, ``step_up_max_age`` by default); each
  dependency also holds it to its own ``max_age``, exactly as the store's state.
- It grants step-up on ``require_second_factor`` only. Changing factors (the factor routes)
  and confirming transactions never read it: those still ask the store, and a
  transaction always needs its own code.

What a stolen one allows: nothing by itself. With the session key it was issued for (which
already lets its holder act as the user, and reach the store's state of the same step-up),
it passes ``require_second_factor`` until ``max_age`` after the second factor was passed
(300 s by default), for that subject only, and no longer. It is revoked early by revoking
the session key (the app's ``current_subject``/``session_key`` then refuse the request
before the step-up is read), or for every token at once by removing the key that sealed it
from ``secret_keys`` (putting a new key in front is not enough: old keys still open). Like
the store's step-up state it is not voided by a change of factors: issue 18 asks a change
of factors to need a fresh second factor (which the factor routes ask the store for), not
to end the freshness of the session that made it; a session that passed before the change
keeps its step-up until ``max_age``, with or without the header.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from otpgate.core.challenge import Verification
from otpgate.core.crypto import DecryptionError, Keyring

#: The response header carrying a fresh step-up token, and the request header sending it back.
STEP_UP_HEADER = "OTP-Step-Up"
_MAX_TOKEN = 2048
#: How many opened tokens :class:`OpenedTokens` keeps (the oldest goes first).
_KEPT = 4096


def _context(session_key: str) -> str:
    return "fastapi-step-up\x1f" + session_key


def issue(keyring: Keyring, session_key: str, verification: Verification, ttl: int) -> str:
    """A step-up token for ``session_key``: ``verification`` passed, valid ``ttl`` seconds."""
    expires = verification.verified_at + ttl
    payload = [verification.subject, verification.verified_at, verification.factor, expires]
    return keyring.seal(json.dumps(payload), context=_context(session_key))


def read(
    keyring: Keyring, token: str | None, session_key: str, subject: str, now: float
) -> Verification | None:
    """The verification ``token`` carries for ``subject`` on ``session_key``, if it opens and
    has not expired; else None (the caller asks the store)."""
    opened = _unseal(keyring, token, session_key)
    if opened is None or opened.verification.subject != subject or now >= opened.expires:
        return None
    return opened.verification


class _Opened(NamedTuple):
    session_key: str
    verification: Verification
    expires: float


def _unseal(keyring: Keyring, token: str | None, session_key: str) -> _Opened | None:
    """What ``token`` says, if it opens for ``session_key`` and is well formed."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        owner, verified_at, factor, expires = json.loads(
            keyring.open(token, context=_context(session_key))
        )
    except (DecryptionError, ValueError, TypeError):
        return None
    if not isinstance(owner, str) or not isinstance(factor, str):
        return None
    if not isinstance(verified_at, (int, float)) or not isinstance(expires, (int, float)):
        return None
    verification = Verification(owner, "action", factor, float(verified_at))
    return _Opened(session_key, verification, float(expires))


class OpenedTokens:
    """:func:`read` with a memory: a token that opened once is not opened again.

    A client sends the same step-up token on every request until it expires, and opening
    it (base64, AES-GCM, JSON) is most of what ``require_second_factor`` costs. What a
    token says is fixed when it is sealed: the same text under the same keyring and session
    key always opens to the same thing. So a token that opened is kept with the session
    key it opened for, its verification and its expiry; a later request with that exact
    text and the same session key gets the same answer without the cryptography, the
    subject and the expiry still checked on every request, as :func:`read` does. Only
    tokens that opened are kept (no one else can make one), at most ``_KEPT`` (the oldest
    goes first), for one keyring (another one, e.g. the gate running again, starts
    empty); an expired one is dropped when it is next seen."""

    def __init__(self) -> None:
        self._keyring: Keyring | None = None
        self._opened: dict[str, _Opened] = {}

    def read(
        self, keyring: Keyring, token: str | None, session_key: str, subject: str, now: float
    ) -> Verification | None:
        """What :func:`read` answers for the same arguments."""
        if not token:
            return None
        if keyring is not self._keyring:
            self._keyring, self._opened = keyring, {}
        known = self._opened.get(token)
        if known is None or known.session_key != session_key:
            known = _unseal(keyring, token, session_key)
            if known is None or now >= known.expires:
                return None
            if len(self._opened) >= _KEPT:
                self._opened.pop(next(iter(self._opened), token), None)
            self._opened[token] = known
        elif now >= known.expires:
            self._opened.pop(token, None)
            return None
        verification = known.verification
        return verification if verification.subject == subject else None
