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
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from otpgate.core.challenge import Challenge, Status, Verification
from otpgate.core.errors import (
    ChallengeExpired,
    DeliveryFailed,
    EnrollmentRequired,
    FactorSetupRequired,
    LoginRequired,
    MalformedInput,
    OtpgateError,
)
from otpgate.core.factors.base import FactorOption
from otpgate.core.web import SecondFactorState, safe_next

from . import devices
from .browser_pages import browser_start, challenge_for, factor_template
from .signals import second_factor_passed
from .web import (
    challenge_json,
    client_ip,
    csrf_token,
    has_factor,
    is_post,
    json_body,
    json_error,
    json_ok,
    load_state,
    locale,
    now,
    render,
    rotate_session,
    save_state,
    state,
    text_field,
    wait_seconds,
    wants_json,
)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/verify", "verify", verify, methods=["GET", "POST"])
    blueprint.add_url_rule("/verify/send", "send", send_code, methods=["POST"])
    blueprint.add_url_rule("/verify/cancel", "cancel", cancel, methods=["POST"])


def who() -> tuple[str, bool]:
    """The subject to verify and whether it is the second step of a sign-in (else step-up)."""
    gate = state()
    current = load_state()
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


def requested_next() -> str:
    value = json_body().get("next") if request.is_json else request.values.get("next")
    return value if isinstance(value, str) else ""


def next_url(is_login: bool, current: SecondFactorState) -> str:
    gate = state()
    if is_login:
        return safe_next(current.pending_next, request.host, fallback=gate.home_url)
    fallback = url_for(gate.endpoint("manage"))
    return safe_next(requested_next(), request.host, fallback=fallback)


def current_challenge(challenge_id: str, subject: str) -> Challenge | None:
    """The session's SMS challenge while it can still be used or resent."""
    if not challenge_id:
        return None
    try:
        challenge = state().verifier.get(challenge_id, subject)
    except (ChallengeExpired, MalformedInput):
        return None
    return challenge if challenge.status in {Status.PENDING, Status.FAILED} else None


def purpose_of(is_login: bool) -> str:
    return "login" if is_login else "action"


def chosen_factor() -> str:
    """The factor the request names (``factor``, or ``method`` as before), or ""."""
    if is_post():
        return text_field("factor") or text_field("method")
    return request.args.get("factor", "") or request.args.get("method", "")


def verify() -> Response:
    subject, is_login = who()
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never the check
        return page(subject, is_login, chosen_factor())
    factor = chosen_factor()
    try:
        verification = state().verifier.verify(
            subject,
            factor,
            text_field("code"),
            purpose=purpose_of(is_login),
            challenge_id=challenge_for(factor, purpose_of(is_login)) or None,
            may_change_factors=False,  # this page never adds a factor
        )
    except OtpgateError as error:
        return page(subject, is_login, factor, error=error)
    response = passed(verification, is_login)
    if devices.wants_remembering(is_login):
        devices.remember(response, verification.subject)
    return response


def passed(verification: Verification, is_login: bool) -> Response:
    """Sign in (or refresh the step-up), rotate the session, go on to ``next``."""
    gate = state()
    current = load_state()
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


def offered(subject: str, is_login: bool) -> list[FactorOption]:
    """The user's factors for this step, the preferred one first. None: EnrollmentRequired
    for a signed-in user with no factor at all (the set-up page), else FactorSetupRequired
    (they have factors, none of which can serve this step)."""
    options = state().verifier.offer(subject, purpose_of(is_login))
    if not options:
        if not is_login and not has_factor(subject):
            raise EnrollmentRequired()
        raise FactorSetupRequired()
    return options


def way_back(is_login: bool) -> str:
    """Where "Cancel" leads from a step-up: the page the user came from (``back``, else the
    ``Referer``, on this host only), unless it is this page or the one asking for the
    step-up (it would ask again); else the home page. "" for a sign-in (it is abandoned)."""
    if is_login:
        return ""
    gate = state()
    raw = json_body().get("back") if request.is_json else request.values.get("back")
    raw = raw if isinstance(raw, str) and raw else request.referrer
    came_from = safe_next(raw, request.host, fallback=gate.home_url)
    asking = {urlsplit(requested_next()).path, request.path}
    return gate.home_url if urlsplit(came_from).path in asking else came_from


def setup_page(is_login: bool, error: FactorSetupRequired) -> Response:
    """No factor of the user's can serve this step: say so, link to adding one (a signed-in
    user: the management page, then back here), offer the way back."""
    gate = state()
    add_url = "" if is_login else url_for(gate.endpoint("manage"))
    cancel_url = url_for(gate.endpoint("cancel"))
    if wants_json():
        links = {"cancel_url": cancel_url, **({"add_factor_url": add_url} if add_url else {})}
        return json_error(error, **links)
    return render(
        "otpgate/verify.html",
        error=error,
        setup_required=True,
        add_url=add_url,
        is_login=is_login,
        back=way_back(is_login),
        next=requested_next(),
    )


def page(
    subject: str, is_login: bool, factor: str, *, error: OtpgateError | None = None
) -> Response:
    """The verification page (or its JSON) on ``factor`` (default: the preferred one), with
    ``error`` shown if given. Opening it sends nothing."""
    gate = state()
    try:
        options = offered(subject, is_login)
    except FactorSetupRequired as missing:
        return setup_page(is_login, missing)
    option = next((o for o in options if o.name == factor), options[0])
    challenge = current_challenge(load_state().challenge_id, subject) if option.sends else None
    methods = [o.name for o in options]
    browser_options: dict[str, Any] | None = None
    try:
        browser_options = browser_start(subject, purpose_of(is_login), option)
    except OtpgateError as failure:
        error = error or failure
    if wants_json():
        data = {"challenge": challenge_json(challenge), "methods": methods}
        if error is not None:
            return json_error(error, **data)
        return json_ok(
            {
                **data,
                "factor": option.name,
                "factors": [o.as_dict() for o in options],
                "login": is_login,
                "masked_phones": list(gate.verifier.factors(subject).masked_phones),
                "browser_options": browser_options,
                "csrf_token": csrf_token(),
            }
        )
    return render(
        "otpgate/verify.html",
        error=error,
        method=option.name,
        methods=methods,
        # the factors to switch to (not those offered only from another's step) and the
        # ways out of this step the core offers from it ("Call me instead" after an SMS)
        tabs=[o.name for o in options if not o.alternative_to],
        alternatives=[o for o in options if o.alternative_to == option.name],
        option=option,
        options=options,
        challenge=challenge,
        wait=wait_seconds(challenge),
        is_login=is_login,
        back=way_back(is_login),
        next=requested_next(),
        remember_days=gate.verifier.devices.days if is_login and devices.enabled() else 0,
        factor_template=factor_template(option.name),
        browser_options=browser_options,
    )


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
