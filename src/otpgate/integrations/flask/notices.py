"""otpgate's notices ("Phone number removed."), shown once, on the next page otpgate renders.

They are kept in a session slot of otpgate's own, not flashed: a site's layout looping over
``get_flashed_messages()`` renders before otpgate's card and would show them too (or show
them later, on another page). otpgate's card shows them and uses them up; the layout shows
the site's own flashes. (A notice for the app's page, such as a canceled transaction sent
home, is still flashed, category ``otpgate-info``.)
"""

from __future__ import annotations

from flask import session

#: The session key of the notices not shown yet: ``[[category, text], ...]``.
SLOT = "otpgate_notices"
_KEPT = 10


def notify(text: str, category: str = "otpgate-success") -> None:
    """Queue ``text`` (already in the request's language) for otpgate's next page."""
    queued = session.get(SLOT)
    kept = [item for item in queued if _valid(item)] if isinstance(queued, list) else []
    session[SLOT] = [*kept, [category, text]][-_KEPT:]


def pending() -> list[tuple[str, str]]:
    """The notices to show now, as ``(category, text)``; each is shown once."""
    queued = session.pop(SLOT, None)
    if not isinstance(queued, list):
        return []
    return [(item[0], item[1]) for item in queued if _valid(item)]


def _valid(item: object) -> bool:
    return (
        isinstance(item, (list, tuple))
        and len(item) == 2
        and all(isinstance(part, str) for part in item)
    )
