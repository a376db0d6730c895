"""The second step (after the password) and step-up, as one page: ``otpgate:verify``.

The factors are those the core offers for this step (``gate.offer``), the preferred one first;
the page opens on it and sends nothing unless it is a factor that sends (SMS: "Send code", then
a resend button that shows the cooldown). Checking goes through ``gate.verify``. A pending
login is logged in on success (the session id rotates); a logged-in session is marked as
having passed the second factor now (step-up) and its id rotates too.

No dead end: every state of the page has a way back (``otpgate:verify_cancel``: a sign-in is
abandoned and the user signed out, a step-up goes back to the page the user came from, or
the site's home), and a signed-in user with no factor that can serve this step is told so
and sent to add one (``otpgate:manage``) instead of meeting a form they cannot use.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.errors import (
    ChallengeExpired,
    DeliveryFailed,
    FactorNotAllowed,
    FactorNotEnrolled,
    OtpgateError,
    UnknownFactor,
)
from otpgate.core.factors import FactorOption, browser
from otpgate.core.factors.selection import setup_required
from otpgate.core.verifier import Verifier
from otpgate.core.web import challenge_view

from .. import devices, policy, runtime
from ..session import (
    PENDING,
    Actor,
    SessionData,
    abandon,
    actor_of,
    client_ip,
    complete,
    default_next,
    locale_of,
    log_in,
    next_url,
    pending_user,
    signed_in,
)
from .common import factor_template, field, page, redirect, with_next

TEMPLATE = "otpgate/verify.html"


def choose(options: list[FactorOption], wanted: object) -> FactorOption:
    """The option called ``wanted`` if it is offered, else the preferred one (the first)."""
    for option in options:
        if option.name == wanted:
            return option
    return options[0]


def check(gate: Verifier, data: SessionData, actor: Actor, factor: str, code: str) -> Verification:
    """Check ``code`` with ``factor`` for ``actor``'s step, through the core (a factor that
    sent something: only this session's challenge, started for this purpose; a factor the
    browser answers: the challenge this page handed it)."""
    if browser.named_factor_answered_by_browser(gate.registry, gate.settings, factor):
        challenge_id = browser.recalled(data.session, actor.purpose)
    else:
        challenge_id = data.state.challenge_id
    return gate.verify(
        actor.subject,
        factor,
        code,
        purpose=actor.purpose,
        challenge_id=challenge_id or None,
        may_change_factors=False,
    )


def browser_start(
    request: HttpRequest, gate: Verifier, data: SessionData, actor: Actor, option: FactorOption
) -> dict[str, Any] | None:
    """For a factor the browser answers (a passkey): start it now, every time the page is
    shown (its challenge is single use), and hand the page the browser's options."""
    if not browser.answered_by_browser(option):
        return None
    challenge = gate.start(
        actor.subject,
        option.name,
        purpose=actor.purpose,
        client_ip=client_ip(request),
        locale=locale_of(request),
    )
    browser.remember(data.session, actor.purpose, challenge)
    return browser.options_of(challenge)


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
    if challenge is not None and browser.options_of(challenge) is not None:
        return None  # answered in the browser: its page starts it (``browser_start``)
    if challenge is not None:
        data.state.challenge_id = challenge.id
    return challenge


def check_first(
    request: HttpRequest, gate: Verifier, data: SessionData, actor: Actor, wanted: object
) -> tuple[Verification | None, OtpgateError | None]:
    """A POSTed code with a named factor is checked before anything is offered (the check
    reads the factors and refuses one the subject may not use for this step): the common
    right-code POST then costs one read of the factors, not three. A factor that cannot
    serve (unknown, not allowed, not enrolled) gives neither: the page decides as usual."""
    if request.method != "POST" or (field(request, "action") or "verify") != "verify":
        return None, None
    if not isinstance(wanted, str) or not wanted:
        return None, None
    try:
        return check(gate, data, actor, wanted, field(request, "code")), None
    except (UnknownFactor, FactorNotAllowed, FactorNotEnrolled):
        return None, None
    except OtpgateError as failure:
        return None, failure


def way_back(request: HttpRequest, target: str) -> str:
    """Where a step-up's "Cancel" leads: the page the user came from (the ``Referer``, on
    this host only), unless it is this page or the one asking for the step-up (that would
    ask again); else the site's home (``LOGIN_REDIRECT_URL``)."""
    home = default_next()
    came_from = next_url(request, request.META.get("HTTP_REFERER", ""))
    here, asking = urlsplit(request.build_absolute_uri()).path, urlsplit(target).path
    return home if urlsplit(came_from).path in {here, asking} else came_from


def _current(gate: Verifier, data: SessionData, actor: Actor) -> Challenge | None:
    if not data.state.challenge_id:
        return None
    try:
        return gate.get(data.state.challenge_id, subject=actor.subject)
    except (ChallengeExpired, OtpgateError):
        return None


def _restart(request: HttpRequest, data: SessionData) -> HttpResponse:
    abandon(request, data)
    return HttpResponseRedirect(resolve_url(django_settings.LOGIN_URL))


def _passed(
    request: HttpRequest,
    gate: Verifier,
    data: SessionData,
    actor: Actor,
    verification: Verification,
    target: str,
) -> HttpResponse:
    """The step passed: log in (or refresh), remember the device if asked, go on."""
    response = complete(request, data, actor, verification, target)
    if response is None:
        return _restart(request, data)
    if devices.wants_remembering(request, gate, actor.purpose):
        devices.remember(request, response, gate, signed_in(request, actor))
    return response


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
    wanted = request.POST.get("method") or request.GET.get("method") or data.state.pending_method
    verification, checked = check_first(request, gate, data, actor, wanted)
    if verification is not None:
        data.state.pending_method = str(wanted)
        return _passed(request, gate, data, actor, verification, target)
    options = gate.offer(actor.subject, actor.purpose)
    missing = setup_required(options)
    if missing is not None:
        if actor.mode != PENDING and not policy.has_factor(actor.subject):
            return redirect("otpgate:manage", target)  # no factor at all: set one up
        if actor.mode != PENDING:  # none that serves this step: say so, link to adding one
            setup: dict[str, Any] = {"mode": actor.mode, "setup_required": True, "next": target}
            setup["add_url"] = with_next("otpgate:manage", target)
            setup["back"] = way_back(request, target)
            return page(request, TEMPLATE, setup, error=missing)
        user = pending_user(data, actor.subject)  # factors were reset meanwhile
        signed_in = log_in(request, data, user, target) if user is not None else None
        return signed_in or _restart(request, data)
    option = choose(options, wanted)
    method = data.state.pending_method = option.name
    error: OtpgateError | None = None
    notice = pending_error = ""
    if checked is not None:  # the code was checked above: its error, never a second try
        error = checked
    elif request.method == "POST":
        action = field(request, "action") or "verify"
        try:
            if action == "send":
                # the page says where it went; the status says a call is ringing (not "a new code")
                notice = "started" if start(request, gate, data, actor, method) else ""
            elif action == "resend":
                gate.resend(data.state.challenge_id, client_ip=client_ip(request))
                notice = "sent"
            else:
                verification = check(gate, data, actor, method, field(request, "code"))
                return _passed(request, gate, data, actor, verification, target)
        except OtpgateError as failure:
            error = failure
    else:
        pending_error = data.extra.pop("notice_error", "")
    challenge = _current(gate, data, actor) if option.sends else None
    browser_options: dict[str, Any] | None = None
    try:
        browser_options = browser_start(request, gate, data, actor, option)
    except OtpgateError as failure:
        error = error or failure
    data.save()
    remembers = actor.purpose == "login" and gate.devices.enabled
    context: dict[str, Any] = {
        "mode": actor.mode,
        "method": method,
        "methods": [other.name for other in options],
        "option": option,
        "options": options,
        # the ways out of this step the core offers from it ("Call me instead" after an SMS)
        "alternatives": [other for other in options if other.alternative_to == option.name],
        # the other factors to switch to (not those offered only from another's step)
        "others": [o for o in options if o.name != method and not o.alternative_to],
        "challenge": challenge_view(challenge, gate.clock()) if challenge else None,
        "notice": notice,
        "error": pending_error if isinstance(pending_error, str) else "",
        "next": target,
        "login_url": resolve_url(django_settings.LOGIN_URL),
        "back": way_back(request, target) if actor.mode != PENDING else "",
        "code_digits": option.input.length,
        "remember_days": gate.devices.days if remembers else 0,
        "factor_template": factor_template(method),
        "browser_options": browser.options_json(browser_options),
    }
    return page(request, TEMPLATE, context, error=error)


@never_cache
@csrf_protect
def cancel(request: HttpRequest) -> HttpResponse:
    """POST: the way back from the second step. A sign-in waiting for it (or a session signed
    in by password alone) is abandoned: its code is canceled and the session flushed (signed
    out), back to ``LOGIN_URL``. A step-up
    is left: its code is canceled and the user goes ``back`` (on this host only, else the
    site's home), still signed in and no fresher than before."""
    if request.method != "POST":
        return HttpResponseRedirect(with_next("otpgate:verify"))
    gate = runtime.get_verifier()
    data = SessionData(request.session)
    if data.state.challenge_id:
        with suppress(OtpgateError):  # already used, expired or someone else's
            gate.cancel(data.state.challenge_id)
    user = request.user
    if not (user.is_authenticated and data.state.has_passed(str(user.pk))):
        request.session.flush()  # a half-signed-in session is gone (signed out), id and all
        return HttpResponseRedirect(resolve_url(django_settings.LOGIN_URL))
    data.state.challenge_id = ""
    data.save()
    return HttpResponseRedirect(next_url(request, request.POST.get("back")))
