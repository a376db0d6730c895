"""The guard's per-request answer to "has the signed-in user a second factor?", from the
session instead of the database, by the core's rule (:mod:`otpgate.core.factor_memory`, which
Django's middleware uses too).

The guard (``OTPGATE_ENFORCE``) asks it on every page of a signed-in session that has not
passed a second factor: for a user with no factor that would be a credentials lookup on
every request. Only a "no factor" answer is remembered, in the session, under
:data:`SESSION_KEY`, as ``{"subject", "at"}``; a user with a factor is looked up (and
sent to the second step) as before, and a session that passed needs no answer at all.

The remembered answer is looked up again (a fresh credentials query) when:

- it is for another subject than the one signed in now (it never carries over);
- it is older than ``OTPGATE_FACTOR_RECHECK`` seconds (default 60; ``0`` looks up on every
  request): this is how a factor added *elsewhere* (another process or host, ``flask
  otpgate`` commands, an admin writing to the tables) is picked up: within that interval;
- a factor of that subject was added or removed through this app's verifier (any session,
  any of otpgate's views or APIs) since it was taken: the verifier's ``factor_added`` /
  ``factor_removed`` events are noted per subject in ``gate.factor_changes``, so within one
  process the change counts on the next request.

``@otp_required`` and ``@fresh_otp`` views, the sign-in and otpgate's own pages always look
the factors up: a stale "no factor" can only let a signed-in session see the app's pages
that need no second factor for up to the interval, never a view that demands one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import session

from otpgate.core import factor_memory

from .web import NO_FACTOR_SESSION_KEY as SESSION_KEY
from .web import has_factor

if TYPE_CHECKING:
    from flask.sessions import SessionMixin

    from .extension import GateState


def watch_changes(gate: GateState) -> None:
    """Note, per subject, every factor added or removed by the app's verifier."""
    gate.verifier.subscribe(gate.factor_changes.note)


def has_factor_for_guard(
    gate: GateState, subject: str, current: SessionMixin | None = None
) -> bool:
    """True if ``subject`` has a second factor; a "no factor" answer taken less than
    ``OTPGATE_FACTOR_RECHECK`` seconds ago in this session (and after the subject's last
    change of factors noted in this process) is reused instead of querying. ``current``:
    the request's session, if the caller has it at hand (else read through the proxy)."""
    now = gate.verifier.clock()
    remembered = (session if current is None else current).get(SESSION_KEY)
    if factor_memory.still_none(remembered, subject, now, gate.factor_recheck, gate.factor_changes):
        return False
    found = has_factor(subject)
    remember(gate, subject, found, checked_at=now)
    return found


def remember(gate: GateState, subject: str, found: bool, *, checked_at: float) -> None:
    """Keep a lookup's answer (taken at ``checked_at``, before the query) for the guard."""
    if found or gate.factor_recheck <= 0:
        session.pop(SESSION_KEY, None)
    else:
        session[SESSION_KEY] = factor_memory.memory(subject, checked_at)
