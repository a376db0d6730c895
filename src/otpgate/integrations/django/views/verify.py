"""The second step (after the password) and step-up, as one page: ``otpgate:verify``.

SMS with a resend button that shows the cooldown, or the authenticator app, or a recovery
code. A pending login is logged in on success (the session id rotates); a logged-in session
is marked as having passed the second factor now (step-up) and its id rotates too.
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
from otpgate.core.credentials import Factors
from otpgate.core.errors import ChallengeExpired, DeliveryFailed, OtpgateError
from otpgate.core.verifier import Verifier
from otpgate.core.web import SecondFactorState, challenge_view

from .. import runtime
from ..login import default_method
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


def methods_of(factors: Factors) -> list[str]:
    """The methods this subject can use, in the order they are offered."""
    found = []
    if factors.masked_phones:
        found.append("sms")
    if factors.totp:
        found.append("totp")
    if factors.recovery_codes_left:
        found.append("recovery")
    return found


def check(gate: Verifier, data: SessionData, actor: Actor, method: str, code: str) -> Verification:
    """Check ``code`` with ``method`` for ``actor`` (SMS: only this session's challenge)."""
    if method == "sms":
        return gate.check(
            data.state.challenge_id, code, subject=actor.subject, may_change_factors=False
        )
    if method == "totp":
        return gate.check_totp(actor.subject, code, purpose=actor.purpose)
    return gate.check_recovery(actor.subject, code, purpose=actor.purpose)


def start(request: HttpRequest, gate: Verifier, data: SessionData, actor: Actor) -> Challenge:
    """Send a code to the subject's phone for this step; remember the challenge."""
    try:
        challenge = gate.start_sms(
            actor.subject,
            purpose=actor.purpose,
            client_ip=client_ip(request),
            locale=locale_of(request),
        )
    except DeliveryFailed as error:
        data.state.challenge_id = error.challenge_id or data.state.challenge_id
        raise
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
    factors = gate.factors(actor.subject)
    methods = methods_of(factors)
    if not methods:
        if actor.mode != PENDING:
            return redirect("otpgate:manage", target)
        user = pending_user(data, actor.subject)  # factors were reset meanwhile
        if user is None:
            return _restart(request, data)
        from django.contrib import auth

        auth.login(request, user, backend=user.backend)
        return HttpResponseRedirect(target)
    wanted = request.POST.get("method") or request.GET.get("method") or data.state.pending_method
    method = wanted if wanted in methods else default_method(factors)
    data.state.pending_method = method
    error: OtpgateError | None = None
    notice = pending_error = ""
    if request.method == "POST":
        action = field(request, "action") or "verify"
        try:
            if action == "send":
                start(request, gate, data, actor)
                notice = "sent"
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
    challenge = _current(gate, data, actor) if method == "sms" else None
    data.save()
    context: dict[str, Any] = {
        "mode": actor.mode,
        "method": method,
        "methods": methods,
        "challenge": challenge_view(challenge, gate.clock()) if challenge else None,
        "notice": notice,
        "error": pending_error if isinstance(pending_error, str) else "",
        "next": target,
        "login_url": resolve_url(django_settings.LOGIN_URL),
        "code_digits": gate.settings.code_digits if method == "sms" else gate.settings.totp_digits,
    }
    return page(request, TEMPLATE, context, error=error)
