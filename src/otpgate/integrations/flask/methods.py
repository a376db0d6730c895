"""HEAD on otpgate's blueprint has no side effect on the session.

Flask answers OPTIONS itself (200, empty, ``Allow``) and HEAD by running the GET view and
dropping the body. A GET of otpgate's may write to the session (the factor asked for, a
notice shown once, a flash before a redirect): for a HEAD, :func:`remember_session` keeps
the session as it was before the view, and :func:`restore_session` puts it back after.
"""

from __future__ import annotations

from flask import g, request, session
from werkzeug.wrappers import Response

_SLOT = "_otpgate_head_session"


def remember_session() -> None:
    """Before a HEAD's view: the session as it is."""
    if request.method == "HEAD":
        setattr(g, _SLOT, dict(session))


def restore_session(response: Response) -> Response:
    """After a HEAD's view: the session as it was before it."""
    saved = g.pop(_SLOT, None)
    if isinstance(saved, dict) and dict(session) != saved:
        session.clear()
        session.update(saved)
    return response
