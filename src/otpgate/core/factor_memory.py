"""What a session may remember of "this signed-in user has no second factor", so a guard
need not ask the credentials database on every page. One rule for every integration.

A guard (Django's middleware, Flask's ``OTPGATE_ENFORCE``) must know, for a signed-in session
that has not passed a second factor, whether its user has a factor (then: the second step).
Asking the database on every page costs an ordinary site more than the page itself, so the
answer "no factor (and none required)" is kept in the session as a small mapping
(:func:`memory`: the subject and when it was checked) and trusted for ``recheck`` seconds
(``OTPGATE_FACTOR_RECHECK``, default 60; 0 asks on every request). Nothing else is cached:
a user who has a factor is looked up on every request, and "passed" stays the core's
per-session state.

How a change is picked up:

- a factor added or removed through a verifier of this process (any session, any page or
  API, ``gate.totp.confirm``, an admin reset) voids every memory of that subject at once:
  :class:`FactorChanges` listens to the verifiers' ``factor_added`` / ``factor_removed``
  events and :func:`still_none` refuses a memory taken before the subject's last change;
- a change made elsewhere (another process or host, a raw database write) is seen at the
  next re-check, at most ``recheck`` seconds later. Until then the session keeps the access
  it had; it never skips a factor it was asked for, and every new sign-in asks anew.

A memory only ever lets through the subject it was written for; anything unreadable, older,
in the future or for another subject means asking the database again (more checks, never
fewer).
"""

from __future__ import annotations

import threading
from typing import Any

from .events import Event, EventName

_CHANGES = frozenset({EventName.FACTOR_ADDED, EventName.FACTOR_REMOVED})
#: Subjects whose change times are kept before they are summed up in one floor.
PRUNE_AT = 10_000


class FactorChanges:
    """When each subject's factors last changed in this process (a verifier's listener).

    Bounded: past :data:`PRUNE_AT` subjects the details are dropped and every memory taken
    before the latest of them is void (more lookups, never fewer).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed: dict[str, float] = {}
        self._floor = float("-inf")

    def note(self, event: Event) -> None:
        """The verifiers' event listener: remember when a subject's factors changed."""
        if event.name not in _CHANGES:
            return
        with self._lock:
            if len(self._changed) >= PRUNE_AT:
                self._floor = max(self._floor, *self._changed.values())
                self._changed.clear()
            self._changed[event.subject] = max(event.at, self._changed.get(event.subject, event.at))

    def changed_at(self, subject: str) -> float:
        """When ``subject``'s factors last changed here (``-inf``: never noticed)."""
        with self._lock:
            return max(self._changed.get(subject, self._floor), self._floor)

    def forget(self) -> None:
        """Drop everything noted (tests, a new configuration)."""
        with self._lock:
            self._changed.clear()
            self._floor = float("-inf")


def memory(subject: str, now: float) -> dict[str, Any]:
    """What a session keeps after a lookup at ``now`` found no factor for ``subject``."""
    return {"subject": subject, "at": now}


def still_none(
    remembered: object, subject: str, now: float, recheck: float, changes: FactorChanges
) -> bool:
    """True if ``remembered`` (a session's memory) says ``subject`` had no factor less than
    ``recheck`` seconds ago and after the subject's last change noted in ``changes``."""
    if recheck <= 0 or not isinstance(remembered, dict):
        return False
    if remembered.get("subject") != subject:
        return False
    checked = remembered.get("at")
    if not isinstance(checked, (int, float)) or isinstance(checked, bool):
        return False
    if not checked <= now < checked + recheck:
        return False
    # Strictly after the last change: a lookup at the same instant may have missed it.
    return changes.changed_at(subject) < checked
