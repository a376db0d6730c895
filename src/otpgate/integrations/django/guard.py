"""What the middleware remembers of a signed-in user who needs no second factor.

For a session that has not passed a second factor, the middleware must know whether the user
has a factor (then: the second step) or must set one up (``OTPGATE_REQUIRED``). Asking the
database on every page costs an ordinary site more than the page itself, so the answer "no
factor, not required: let it through" is kept in the session (``otpgate.guard``: the subject
and when it was checked) and trusted for ``OTPGATE_FACTOR_RECHECK`` seconds (default 60; ``0``
asks on every request). Nothing else is cached: a user who has a factor, or must set one up,
is checked on every request, and "passed" stays the core's per-session state.

How a change is picked up:

- a factor added or removed through otpgate (its pages, its API, ``Verifier`` calls such as
  ``gate.totp.confirm`` or the admin's reset) in this process voids every such memory of the
  user at once, in every session (the verifiers' ``factor_added``/``factor_removed`` events);
- a change made elsewhere (another worker process, a raw database write, a user moved into a
  required group) is seen at the next re-check, at most ``OTPGATE_FACTOR_RECHECK`` seconds
  later. Until then the session keeps the access it had (it was signed in while the user had
  no factor); it never skips a factor it was asked for, and every new sign-in asks anew.

The memory only ever lets through the user it was written for; anything unreadable, older, or
for another user means asking the database again (more checks, never fewer).
"""

from __future__ import annotations

import threading
from typing import Any

from otpgate.core.events import Event, EventName

SESSION_KEY = "otpgate.guard"
_CHANGES = frozenset({EventName.FACTOR_ADDED, EventName.FACTOR_REMOVED})
_PRUNE_AT = 10_000

_lock = threading.Lock()
#: subject -> when its factors last changed in this process (the verifiers' clock).
_changed: dict[str, float] = {}
#: Memories from before this time are void (the noted changes were pruned up to it).
_floor = [float("-inf")]


def note_change(event: Event) -> None:
    """The verifiers' event listener: remember when a subject's factors changed."""
    if event.name not in _CHANGES:
        return
    with _lock:
        if len(_changed) >= _PRUNE_AT:  # forget the details, void every older memory
            _floor[0] = max(_floor[0], *_changed.values())
            _changed.clear()
        _changed[event.subject] = event.at


def forget_changes() -> None:
    """Drop the noted changes (``runtime.reset``: tests, a new configuration)."""
    with _lock:
        _changed.clear()
        _floor[0] = float("-inf")


def lets_through(session: Any, subject: str, now: float, recheck: float) -> bool:
    """True if this session learned, less than ``recheck`` seconds ago and since the
    subject's last noted change, that ``subject`` has no factor and need not set one up."""
    if recheck <= 0:
        return False
    memory = session.get(SESSION_KEY)
    if not isinstance(memory, dict) or memory.get("subject") != subject:
        return False
    checked = memory.get("at")
    if not isinstance(checked, (int, float)) or isinstance(checked, bool):
        return False
    if not checked <= now < checked + recheck:
        return False
    with _lock:
        changed = _changed.get(subject, _floor[0])
    return max(changed, _floor[0]) < checked


def remember(session: Any, subject: str, now: float, recheck: float) -> None:
    """Note in the session that ``subject`` has no factor and need not set one up now."""
    if recheck > 0:
        session[SESSION_KEY] = {"subject": subject, "at": now}


def on_login(sender: object, request: Any = None, **kwargs: object) -> None:
    """``user_logged_in``: a new sign-in never inherits the memory (it is asked anew)."""
    session = getattr(request, "session", None)
    if session is not None:
        forget(session)


def forget(session: Any) -> None:
    """Drop the session's memory (its user now has a factor or must set one up)."""
    if SESSION_KEY in session:
        del session[SESSION_KEY]
