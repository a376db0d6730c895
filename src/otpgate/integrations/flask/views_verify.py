"""The second step of a sign-in, and step-up verification of a signed-in user.

``GET /verify`` shows the factors the core offers the user (``gate.offer``), opened on the
preferred one and sending nothing; ``POST /verify/send`` starts a factor that delivers a code
(or resends it once the cooldown allows: shown, and enforced by the core); ``POST /verify``
checks a code with ``gate.verify``; ``POST /verify/cancel`` is the way back from every state
of the page: it abandons a sign-in, or leaves a step-up for the page the user came from (on
this host only, else the home page). A user with no factor that can serve the step is told so
(``factor_setup_required``) with a link to adding one, not shown a form they cannot use. No
factor is named here: a factor registered in the core appears with no change to this module.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.errors import (
    DeliveryFailed,
    LoginRequired,
    OtpgateError,
)
from otpgate.core.web import SecondFactorState, safe_next

from . import devices
from .browser_pages import challenge_for
from .signals import second_factor_passed
from .verify_page import current_challenge as current_challenge
from .verify_page import offered, page, purpose_of, requested_next, way_back
from .web import (
    challenge_json,
    client_ip,
    is_post,
    json_ok,
    load_state,
    locale,
    now,
    rotate_session,
    save_state,
    state,
    text_field,
    wants_json,
)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/verify", "verify", verify, methods=["GET", "POST"])
    blueprint.add_url_rule("/verify/send", "send", send_code, methods=["POST"])
    blueprint.add_url_rule("/verify/cancel", "cancel", cancel, methods=["POST"])


def who(current: SecondFactorState | None = None) -> tuple[str, bool]:
    """The subject to verify and whether it is the second step of a sign-in (else step-up).
    ``current``: the session's state, when the view has it already (read once a request)."""
    gate = state()
    current = current if current is not None else load_state()
    pending = current.pending(now(), gate.settings.login_step_timeout)
    if pending:
        return pending, True
    if current.pending_subject:  # the second step went stale: start the sign-in again
        current.begin("", 0.0)
        save_state(current)
    subject = gate.users.current_subject()
    if subject:
        return subject, False
    raise LoginRequired()


def next_url(is_login: bool, current: SecondFactorState) -> str:
    gate = state()
    if is_login:
        return safe_next(current.pending_next, request.host, fallback=gate.home_url)
    fallback = url_for(gate.endpoint("manage"))
    return safe_next(requested_next(), request.host, fallback=fallback)


def chosen_factor() -> str:
    """The factor the request names (``factor``, or ``method`` as before), or ""."""
    if is_post():
        return text_field("factor") or text_field("method")
    return request.args.get("factor", "") or request.args.get("method", "")


def verify() -> Response:
    current = load_state()  # the session's state, read once for the whole request
    subject, is_login = who(current)
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never the check
        return page(subject, is_login, chosen_factor())
    factor, purpose = chosen_factor(), purpose_of(is_login)
    try:
        verification = state().verifier.verify(
            subject,
            factor,
            text_field("code"),
            purpose=purpose,
            challenge_id=challenge_for(factor, purpose, current) or None,
            may_change_factors=False,  # this page never adds a factor
        )
    except OtpgateError as error:
        return page(subject, is_login, factor, error=error)
    response = passed(verification, is_login, current)
    if devices.wants_remembering(is_login):
        devices.remember(response, verification.subject)
    return response


def passed(
    verification: Verification, is_login: bool, current: SecondFactorState | None = None
) -> Response:
    """Sign in (or refresh the step-up), rotate the session, go on to ``next``.
    ``current``: the session's state as the view read it (else read here)."""
    gate = state()
    current = current if current is not None else load_state()
    target = next_url(is_login, current)
    remember = current.pending_remember
    rotate_session(keep_auth=not is_login)
    if is_login:
        gate.users.log_in(verification.subject, remember)
    fresh = SecondFactorState()
    fresh.passed(verification)
    save_state(fresh)
    if second_factor_passed.receivers:  # nobody listening: not even the app looked up
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        second_factor_passed.send(app, verification=verification, login=is_login)
    if wants_json():
        return json_ok({"status": "verified", "factor": verification.factor, "next": target})
    return redirect(target, code=303)


def send_code() -> Response:
    """Start the chosen factor (default: the first one that sends): send its code, or resend
    the same one once the cooldown allows."""
    gate = state()
    subject, is_login = who()
    current = load_state()
    factor = chosen_factor()
    existing: Challenge | None = None
    try:
        options = offered(subject, is_login)
        factor = factor or next((o.name for o in options if o.sends), options[0].name)
        existing = current_challenge(current.challenge_id, subject)
        if existing is not None and current.pending_method not in ("", factor):
            existing = None  # another factor's challenge ("Call me instead"): a new one
        if existing is not None:
            challenge = gate.verifier.resend(existing.id, client_ip())
        else:
            started = gate.verifier.start(
                subject,
                factor,
                purpose=purpose_of(is_login),
                client_ip=client_ip(),
                locale=locale(),
            )
            if started is None or started.browser_options is not None:
                return page(subject, is_login, factor)  # nothing sent: the factor's page
            challenge = started
            current.challenge_id = challenge.id
            current.pending_method = factor
            save_state(current)
    except DeliveryFailed as error:
        if existing is None and error.challenge_id:
            current.challenge_id = error.challenge_id
            current.pending_method = factor
            save_state(current)
        return page(subject, is_login, factor, error=error)
    except OtpgateError as error:
        return page(subject, is_login, factor, error=error)
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    target = url_for(gate.endpoint("verify"), method=factor, next=requested_next() or None)
    return redirect(target, code=303)


def cancel() -> Response:
    """Abandon the second step of a sign-in and its SMS challenge (the user stays signed
    out), or leave a step-up: its challenge is canceled, the user goes back (``back``, on
    this host only, else the home page), still signed in and no fresher than before."""
    gate = state()
    current = load_state()
    if current.challenge_id:
        with suppress(OtpgateError):  # an expired or malformed id: nothing to cancel
            gate.verifier.cancel(current.challenge_id)
    subject = gate.users.current_subject()
    if subject and not current.pending_subject and current.has_passed(subject):
        current.challenge_id = ""
        save_state(current)
        back = way_back(is_login=False)
        return (
            json_ok({"status": "canceled", "next": back})
            if wants_json()
            else redirect(back, code=303)
        )
    current.begin("", 0.0)
    save_state(current)
    if wants_json():
        return json_ok({"status": "canceled"})
    from .blueprint import login_url

    return redirect(login_url().split("?", 1)[0], code=303)
