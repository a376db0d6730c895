"""A POST stopped by step-up is sent again after the second factor: ``otpgate:replay``.

:func:`keep_submission` (called by ``otp_required`` and ``OtpRequiredMixin`` when a page's POST
needs a fresh second factor) keeps the form in the store through the core
(:mod:`otpgate.core.submissions`: sealed, bound to the user, single use, CSRF token left out)
and puts its opaque token in this session only; the second step then continues to
``otpgate:replay?next=<the original path>``. That page takes the submission (once, for this
user and this path) and posts it again to the original path with this session's current CSRF
token: a tiny script submits it, and a "Continue" button does without JavaScript. Anything
else (no token in this session, another user's, expired, used, or for another path) replays
nothing: the user lands on ``next`` by GET. Uploaded files are not kept: the page asks for
them again and waits for "Continue".
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from otpgate.core.submissions import Kept, Submission, Submissions

from .. import runtime
from ..session import SessionData, next_url
from .common import page, redirect, with_next

TEMPLATE = "otpgate/replay.html"
#: Where this session keeps the token of its kept submission.
SESSION_SLOT = "otpgate.replay"


def keep_submission(request: HttpRequest, subject: str) -> str:
    """Keep this POST's form for ``subject``; the URL that replays it after the second
    step, or "" if nothing was kept (not a POST, or too large: the user comes back by GET)."""
    path = request.get_full_path()
    submission = Submission(
        method=request.method or "",
        path=path,
        fields=tuple((name, value) for name, values in request.POST.lists() for value in values),
        file_fields=tuple(request.FILES.keys()),
        content_type=request.content_type or "",
    )
    keeping = Submissions(runtime.get_verifier()).keep(subject, submission)
    if keeping.outcome is not Kept.KEPT:
        request.session.pop(SESSION_SLOT, None)
        return ""
    request.session[SESSION_SLOT] = keeping.token
    return with_next("otpgate:replay", path)


@never_cache
@require_GET
def replay(request: HttpRequest) -> HttpResponse:
    """The page that posts the kept submission again, or a redirect to ``next`` by GET (a
    session that has not passed its second factor goes to it first, then comes back)."""
    target = next_url(request, request.GET.get("next"))
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return HttpResponseRedirect(target)
    subject = str(user.pk)
    if not SessionData(request.session).state.has_passed(subject):
        return redirect("otpgate:verify", request.get_full_path())  # then back here
    token = request.session.pop(SESSION_SLOT, "")
    if not isinstance(token, str):
        return HttpResponseRedirect(target)
    kept = Submissions(runtime.get_verifier()).take(subject, token, target)
    if kept is None:
        return HttpResponseRedirect(target)
    context = {"action": kept.path, "fields": kept.fields, "file_fields": kept.file_fields}
    return page(request, TEMPLATE, context)
