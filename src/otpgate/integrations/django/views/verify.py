"""The second step (after the password) and step-up, as one page: ``otpgate:verify``.

The factors are those the core offers for this step (``gate.offer``), the preferred one first;
the page opens on it and sends nothing unless it is a factor that sends (SMS: "Send code", then
a resend button that shows the cooldown). Checking goes through ``gate.verify``. A pending
login is logged in on success (the session id rotates); a logged-in session is marked as
having passed the second factor now (step-up) and its id rotates too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.errors import ChallengeExpired, DeliveryFailed, OtpgateError
from otpgate.core.factors import FactorOption
from otpgate.core.verifier import Verifier
from otpgate.core.web import SecondFactorState, challenge_view

from .. import runtime
from ..session import (
    PENDING,
    Actor,
    SessionData,
    actor_of,
    client_ip,
    complete,
    locale_of,
    next_url,
    pending_user,
)
from .common import field, page, redirect

TEMPLATE = "otpgate/verify.html"


def choose(options: list[FactorOption], wanted: object) -> FactorOption:
    """The option called ``wanted`` if it is offered, else the preferred one (the first)."""
    for option in options:
        if option.name == wanted:
            return option
    return options[0]


def check(gate: Verifier, data: SessionData, actor: Actor, factor: str, code: str) -> Verification:
    """Check ``code`` with ``factor`` for ``actor``'s step, through the core (a factor that
    sent something: only this session's challenge, started for this purpose)."""
    return gate.verify(
        actor.subject,
        factor,
        code,
        purpose=actor.purpose,
        challenge_id=data.state.challenge_id or None,
        may_change_factors=False,
    )


def start(
    request: HttpRequest, gate: Verifier, data: SessionData, actor: Actor, factor: str
) -> Challenge | None:
    """Start ``factor`` for this step (an SMS is sent; an app: nothing); remember the
    challenge if one was started."""
    try:
        challenge = gate.start(
            actor.subject,
            factor,
            purpose=actor.purpose,
            client_ip=client_ip(request),
            locale=locale_of(request),
        )
    except DeliveryFailed as error:
        data.state.challenge_id = error.challenge_id or data.state.challenge_id
        raise
    if challenge is not None:
        data.state.challenge_id = challenge.id
    return challenge


def _current(gate: Verifier, data: SessionData, actor: Actor) -> Challenge | None:
    if not data.state.challenge_id:
        return None
    try:
        return gate.get(data.state.challenge_id, subject=actor.subject)
    except (ChallengeExpired, OtpgateError):
        return None


def _restart(request: HttpRequest, data: SessionData) -> HttpResponse:
    data.state = SecondFactorState()
    data.extra = {}
    data.save()
    return HttpResponseRedirect(resolve_url(django_settings.LOGIN_URL))


@never_cache
@csrf_protect
def verify(request: HttpRequest) -> HttpResponse:
    """GET shows the step; POST ``action``: ``verify`` (a ``code``), ``send`` or ``resend``."""
    gate = runtime.get_verifier()
    data = SessionData(request.session)
    now = gate.clock()
    actor = actor_of(request, data, now, gate.settings.login_step_timeout)
    if actor is None:
        if data.state.pending_subject:  # the second step waited too long
            return _restart(request, data)
        return redirect_to_login(request.get_full_path())
    raw_next = request.POST.get("next") or request.GET.get("next") or data.state.pending_next
    target = next_url(request, raw_next)
    options = gate.offer(actor.subject, actor.purpose)
    if not options:
        if actor.mode != PENDING:
            return redirect("otpgate:manage", target)
        user = pending_user(data, actor.subject)  # factors were reset meanwhile
        if user is None:
            return _restart(request, data)
        from django.contrib import auth

        auth.login(request, user, backend=user.backend)
        return HttpResponseRedirect(target)
    wanted = request.POST.get("method") or request.GET.get("method") or data.state.pending_method
    option = choose(options, wanted)
    method = data.state.pending_method = option.name
    error: OtpgateError | None = None
    notice = pending_error = ""
    if request.method == "POST":
        action = field(request, "action") or "verify"
        try:
            if action == "send":
                notice = "sent" if start(request, gate, data, actor, method) else ""
            elif action == "resend":
                gate.resend(data.state.challenge_id, client_ip=client_ip(request))
                notice = "sent"
            else:
                verification = check(gate, data, actor, method, field(request, "code"))
                if complete(request, data, actor, verification) is None:
                    return _restart(request, data)
                return HttpResponseRedirect(target)
        except OtpgateError as failure:
            error = failure
    else:
        pending_error = data.extra.pop("notice_error", "")
    challenge = _current(gate, data, actor) if option.sends else None
    data.save()
    context: dict[str, Any] = {
        "mode": actor.mode,
        "method": method,
        "methods": [other.name for other in options],
        "option": option,
        "options": options,
        "challenge": challenge_view(challenge, gate.clock()) if challenge else None,
        "notice": notice,
        "error": pending_error if isinstance(pending_error, str) else "",
        "next": target,
        "login_url": resolve_url(django_settings.LOGIN_URL),
        "code_digits": option.input.length,
    }
    return page(request, TEMPLATE, context, error=error)
