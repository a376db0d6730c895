"""The guard's per-request answer to "has the signed-in user a second factor?", from the
session instead of the database.

The guard (``OTPGATE_ENFORCE``) asks it on every page of a signed-in session that has not
passed a second factor: for a user with no factor that would be a credentials lookup on
every request. Only a "no factor" answer is remembered, in the session, under
:data:`SESSION_KEY`, as ``[subject, checked_at]``; a user with a factor is looked up (and
sent to the second step) as before, and a session that passed needs no answer at all.

The remembered answer is looked up again (a fresh credentials query) when:

- it is for another subject than the one signed in now (it never carries over);
- it is older than ``OTPGATE_FACTOR_RECHECK`` seconds (default 60; ``0`` looks up on every
  request): this is how a factor added *elsewhere* (another process or host, ``flask
  otpgate`` commands, an admin writing to the tables) is picked up: within that interval;
- a factor was added or removed through this app's verifier (any session, any of otpgate's
  views or APIs) since it was taken: the verifier's ``factor_added``/``factor_removed``
  events move the app's ``factors_changed_at``, so within one process the change counts
  on the next request.

``@otp_required`` and ``@fresh_otp`` views, the sign-in and otpgate's own pages always look
the factors up: a stale "no factor" can only let a signed-in session see the app's pages
that need no second factor for up to the interval, never a view that demands one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import session

from otpgate.core.events import Event, EventName

from .web import NO_FACTOR_SESSION_KEY as SESSION_KEY
from .web import has_factor

if TYPE_CHECKING:
    from .extension import GateState

_CHANGES = {EventName.FACTOR_ADDED, EventName.FACTOR_REMOVED}


def watch_changes(gate: GateState) -> None:
    """Move ``gate.factors_changed_at`` on every factor added or removed by its verifier."""

    def changed(event: Event) -> None:
        if event.name in _CHANGES:
            gate.factors_changed_at = max(gate.factors_changed_at, gate.verifier.clock())

    gate.verifier.subscribe(changed)


def has_factor_for_guard(gate: GateState, subject: str) -> bool:
    """True if ``subject`` has a second factor; a "no factor" answer taken less than
    ``OTPGATE_FACTOR_RECHECK`` seconds ago in this session (and before no change of
    factors in this process) is reused instead of querying."""
    now = gate.verifier.clock()
    if _still_none(gate, subject, now):
        return False
    found = has_factor(subject)
    remember(gate, subject, found, checked_at=now)
    return found


def remember(gate: GateState, subject: str, found: bool, *, checked_at: float) -> None:
    """Keep a lookup's answer (taken at ``checked_at``, before the query) for the guard."""
    if found or gate.factor_recheck <= 0:
        session.pop(SESSION_KEY, None)
    else:
        session[SESSION_KEY] = [subject, checked_at]


def _still_none(gate: GateState, subject: str, now: float) -> bool:
    entry = session.get(SESSION_KEY)
    if not isinstance(entry, list) or len(entry) != 2 or entry[0] != subject:
        return False
    checked_at = entry[1]
    if not isinstance(checked_at, (int, float)) or isinstance(checked_at, bool):
        return False
    # Strictly after the last change: a lookup at the same instant may have missed it.
    return checked_at > gate.factors_changed_at and 0 <= now - checked_at < gate.factor_recheck
