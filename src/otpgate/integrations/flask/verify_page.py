"""The verification page of ``views_verify.py``: the factors offered for the step, the page
(or its JSON) on one of them, the set-up page when none can serve, and the way back."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.wrappers import Response

from otpgate.core.challenge import Challenge, Status
from otpgate.core.errors import (
    ChallengeExpired,
    EnrollmentRequired,
    FactorSetupRequired,
    MalformedInput,
    OtpgateError,
)
from otpgate.core.factors.base import FactorOption
from otpgate.core.web import safe_next

from . import devices
from .browser_pages import browser_start, factor_template
from .web import (
    challenge_json,
    csrf_token,
    has_factor,
    json_body,
    json_error,
    json_ok,
    load_state,
    render,
    state,
    wait_seconds,
    wants_json,
)


def requested_next() -> str:
    value = json_body().get("next") if request.is_json else request.values.get("next")
    return value if isinstance(value, str) else ""


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
