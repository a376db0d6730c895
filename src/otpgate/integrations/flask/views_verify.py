"""The second step of a sign-in, and step-up verification of a signed-in user.

``GET /verify`` shows the factors the user has (authenticator app first: it costs no SMS);
``POST /verify/send`` sends or resends the SMS code (the cooldown is shown, and enforced by
the core); ``POST /verify`` checks a code; ``POST /verify/cancel`` abandons a sign-in.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from otpgate.core.challenge import Challenge, Status, Verification
from otpgate.core.errors import (
    ChallengeExpired,
    DeliveryFailed,
    EnrollmentRequired,
    LoginRequired,
    MalformedInput,
    OtpgateError,
)
from otpgate.core.web import SecondFactorState, safe_next

from .signals import second_factor_passed
from .web import (
    challenge_json,
    client_ip,
    csrf_token,
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

METHODS = ("totp", "sms", "recovery")


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


def verify() -> Response:
    subject, is_login = who()
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never the check
        return page(subject, is_login, request.args.get("method", ""))
    method = text_field("method")
    try:
        verification = check(subject, is_login, method, text_field("code"))
    except OtpgateError as error:
        return page(subject, is_login, method, error=error)
    return passed(verification, is_login)


def check(subject: str, is_login: bool, method: str, code: str) -> Verification:
    gate = state().verifier
    purpose = "login" if is_login else "action"
    if method == "sms":
        return gate.check(
            load_state().challenge_id, code, subject=subject, may_change_factors=False
        )
    if method == "totp":
        return gate.check_totp(subject, code, purpose)
    if method == "recovery":
        return gate.check_recovery(subject, code, purpose)
    raise MalformedInput("Choose sms, totp or recovery.")


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
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    second_factor_passed.send(app, verification=verification, login=is_login)
    if wants_json():
        return json_ok({"status": "verified", "factor": verification.factor, "next": target})
    return redirect(target, code=303)


def page(
    subject: str, is_login: bool, method: str, *, error: OtpgateError | None = None
) -> Response:
    """The verification page (or its JSON), with ``error`` shown if given."""
    gate = state()
    factors = gate.verifier.factors(subject)
    has = {
        "totp": factors.totp,
        "sms": bool(factors.masked_phones),
        "recovery": factors.recovery_codes_left > 0,
    }
    methods = [name for name in METHODS if has[name]]
    if not methods:
        raise EnrollmentRequired()
    method = method if method in methods else methods[0]
    challenge = current_challenge(load_state().challenge_id, subject)
    if wants_json():
        data = {"challenge": challenge_json(challenge), "methods": methods}
        if error is not None:
            return json_error(error, **data)
        return json_ok(
            {
                **data,
                "login": is_login,
                "masked_phones": list(factors.masked_phones),
                "csrf_token": csrf_token(),
            }
        )
    return render(
        "otpgate/verify.html",
        error=error,
        method=method,
        methods=methods,
        factors=factors,
        challenge=challenge,
        wait=wait_seconds(challenge),
        is_login=is_login,
        next=requested_next(),
        sms_digits=gate.settings.code_digits,
        totp_digits=gate.settings.totp_digits,
    )


def send_code() -> Response:
    """Send the SMS code, or resend the same one once the cooldown allows."""
    gate = state()
    subject, is_login = who()
    current = load_state()
    existing = current_challenge(current.challenge_id, subject)
    try:
        if existing is not None:
            challenge = gate.verifier.resend(existing.id, client_ip())
        else:
            challenge = gate.verifier.start_sms(
                subject,
                purpose="login" if is_login else "action",
                client_ip=client_ip(),
                locale=locale(),
            )
            current.challenge_id = challenge.id
            save_state(current)
    except DeliveryFailed as error:
        if existing is None and error.challenge_id:
            current.challenge_id = error.challenge_id
            save_state(current)
        return page(subject, is_login, "sms", error=error)
    except OtpgateError as error:
        return page(subject, is_login, "sms", error=error)
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    target = url_for(state().endpoint("verify"), method="sms", next=requested_next() or None)
    return redirect(target, code=303)


def cancel() -> Response:
    """Abandon the second step of a sign-in (or a step-up) and its SMS challenge."""
    gate = state()
    current = load_state()
    if current.challenge_id:
        with suppress(OtpgateError):  # an expired or malformed id: nothing to cancel
            gate.verifier.cancel(current.challenge_id)
    current.begin("", 0.0)
    save_state(current)
    if wants_json():
        return json_ok({"status": "canceled"})
    from .blueprint import login_url

    return redirect(login_url().split("?", 1)[0], code=303)
