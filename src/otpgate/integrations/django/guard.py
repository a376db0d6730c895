"""What the middleware remembers of a signed-in user who needs no second factor (the rule is
the core's, :mod:`otpgate.core.factor_memory`; Flask's guard uses it too).

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

from typing import Any

from otpgate.core import factor_memory

SESSION_KEY = "otpgate.guard"

#: When each subject's factors last changed in this process (the verifiers' events).
changes = factor_memory.FactorChanges()
#: The verifiers' event listener (``runtime`` subscribes it).
note_change = changes.note
#: Drop the noted changes (``runtime.reset``: tests, a new configuration).
forget_changes = changes.forget


def lets_through(session: Any, subject: str, now: float, recheck: float) -> bool:
    """True if this session learned, less than ``recheck`` seconds ago and since the
    subject's last noted change, that ``subject`` has no factor and need not set one up."""
    return factor_memory.still_none(session.get(SESSION_KEY), subject, now, recheck, changes)


def remember(session: Any, subject: str, now: float, recheck: float) -> None:
    """Note in the session that ``subject`` has no factor and need not set one up now."""
    if recheck > 0:
        session[SESSION_KEY] = factor_memory.memory(subject, now)


def on_login(sender: object, request: Any = None, **kwargs: object) -> None:
    """``user_logged_in``: a new sign-in never inherits the memory (it is asked anew)."""
    session = getattr(request, "session", None)
    if session is not None:
        forget(session)


def forget(session: Any) -> None:
    """Drop the session's memory (its user now has a factor or must set one up)."""
    if SESSION_KEY in session:
        del session[SESSION_KEY]
