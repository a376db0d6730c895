"""A POST stopped by ``@fresh_otp`` (or ``@otp_required``) is sent again after the second step.

:func:`detour` (called by the decorators for a page's POST) keeps the form through the core
(:mod:`otpgate.core.submissions`: sealed, bound to the user, single use, CSRF token left
out), puts its opaque token in this session only, and sends the user to the second step,
which continues to ``/replay?next=<the original path>``. That page (:func:`replay`) takes
the submission (once, for this user and this path) and posts it again to the original path
with this session's current CSRF token (Flask-WTF's when it is set up, as ``csrf_token``): a
tiny script submits it, a "Continue" button does without JavaScript. Anything else (no
token in this session, another user's, expired, used, or another path) replays nothing: the
user lands on ``next`` by GET. Uploaded files are not kept: the page asks for them again and
waits for "Continue".
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from werkzeug.wrappers import Response

from otpgate.core.errors import FreshOtpRequired, OtpgateError, OtpRequired
from otpgate.core.submissions import Kept, Submission, Submissions
from otpgate.core.web import safe_next

from .web import is_post, load_state, render, state, wants_json

#: Where this session keeps the token of its kept submission.
SESSION_SLOT = "_otpgate_replay"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/replay", "replay", replay, methods=["GET"])


def detour(error: OtpgateError) -> Response | None:
    """For a page's POST that needs a (fresh) second factor: keep its form and send the user
    to the second step, after which the form is posted again (or, if it could not be kept,
    the page is opened by GET). None for anything else (the usual answer to ``error``)."""
    if not isinstance(error, (OtpRequired, FreshOtpRequired)) or not is_post() or wants_json():
        return None
    gate = state()
    subject = gate.users.current_subject()
    if not subject:
        return None
    path = request.full_path.rstrip("?")
    submission = Submission(
        method=request.method,
        path=path,
        fields=tuple(request.form.items(multi=True)),
        file_fields=tuple(request.files.keys()),
        content_type=request.mimetype,
    )
    keeping = Submissions(gate.verifier).keep(subject, submission)
    target = path
    if keeping.outcome is Kept.KEPT:
        session[SESSION_SLOT] = keeping.token
        target = url_for(gate.endpoint("replay"), next=path)
    else:
        session.pop(SESSION_SLOT, None)
    return redirect(url_for(gate.endpoint("verify"), next=target), code=303)


def replay() -> Response:
    """The page that posts the kept submission again, or a redirect to ``next`` by GET (a
    session that has not passed its second factor goes to it first, then comes back)."""
    gate = state()
    target = safe_next(request.args.get("next"), request.host, fallback=gate.home_url)
    subject = gate.users.current_subject()
    if not subject:
        return redirect(target)
    if not load_state().has_passed(subject):  # the second step first, then back here
        return redirect(url_for(gate.endpoint("verify"), next=request.full_path.rstrip("?")))
    token = session.pop(SESSION_SLOT, "")
    if not isinstance(token, str):
        return redirect(target)
    kept = Submissions(gate.verifier).take(subject, token, target)
    if kept is None:
        return redirect(target)
    return render(
        "otpgate/replay.html",
        action=kept.path,
        fields=kept.fields,
        file_fields=kept.file_fields,
    )
