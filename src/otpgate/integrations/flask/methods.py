"""HEAD on otpgate's blueprint has no side effect on the session.

Flask answers OPTIONS itself (200, empty, ``Allow``) and HEAD by running the GET view and
dropping the body. A GET of otpgate's may write to the session (the factor asked for, a
notice shown once, a flash before a redirect): for a HEAD, :func:`remember_session` keeps
the session as it was before the view, and :func:`restore_session` puts it back after.

A method a URL of otpgate's does not take (a GET of a POST-only URL: a reload, a link, a
crawler) is answered by :func:`answer_wrong_method`: otpgate's translated message page in the
site's layout, or problem JSON, with 405 and ``Allow``; Werkzeug's own 405 stays for the app's
URLs. (Routing fails before a blueprint is known, so the handler is the app's.)
"""

from __future__ import annotations

from flask import current_app, g, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as WrongMethod
from werkzeug.wrappers import Response

from otpgate.core.errors import MethodNotAllowed

_SLOT = "_otpgate_head_session"


def remember_session() -> None:
    """Before a HEAD's view: the session as it is, and whether it was changed already."""
    if request.method == "HEAD":
        setattr(g, _SLOT, (dict(session), session.modified))


def restore_session(response: Response) -> Response:
    """After a HEAD's view: the session as it was before it, and not sent again unless
    something before the view changed it (a re-signed copy of the old session, arriving after
    a concurrent sign-out or sign-in, would put that session back in the browser)."""
    saved = g.pop(_SLOT, None)
    if saved is None:
        return response
    values, modified = saved
    if dict(session) != values:
        session.clear()
        session.update(values)
    session.modified = modified
    return response


def answer_wrong_method(error: WrongMethod) -> Response | HTTPException:
    """A 405 on one of otpgate's URLs: otpgate's error answer (``Allow`` kept); on any other
    URL, ``error`` unchanged."""
    from .blueprint import answer_error
    from .web import protect, state

    allowed = tuple(sorted(error.valid_methods or ()))
    if not allowed or not _is_ours(allowed[0], state().blueprint):
        return error
    return protect(answer_error(MethodNotAllowed(allowed=allowed)))


def _is_ours(method: str, blueprint: str) -> bool:
    """Whether the request's URL, asked with ``method``, is a rule of ``blueprint``."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return False
    try:
        endpoint, _ = adapter.match(method=method)
    except HTTPException:
        return False
    return isinstance(endpoint, str) and endpoint.startswith(blueprint + ".")
