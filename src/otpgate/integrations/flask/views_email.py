"""Email addresses: add one (an emailed code proves it, through the factor model's
``gate.setup`` and ``gate.verify(..., purpose="enroll")``) and remove one. Like every factor
page, a change needs a fresh second factor (``views_manage.signed_in("change")``).
"""

from __future__ import annotations

from flask import Blueprint, redirect, session, url_for
from werkzeug.wrappers import Response

from otpgate.core.credentials import EmailCredentials
from otpgate.core.errors import MalformedInput, OtpgateError
from otpgate.core.i18n import N_

from .views_manage import done, record_pass, signed_in
from .views_verify import current_challenge
from .web import (
    challenge_json,
    client_ip,
    field,
    is_post,
    json_ok,
    locale,
    render,
    state,
    text_field,
    translate,
    wait_seconds,
    wants_json,
)

FACTOR = "email"
ENROLL_KEY = "_otpgate_email_enroll"


def register(blueprint: Blueprint) -> None:
    rules = [
        ("/email", "email", email, ["GET", "POST"]),
        ("/email/resend", "email_resend", email_resend, ["POST"]),
        ("/email/confirm", "email_confirm", email_confirm, ["POST"]),
        ("/email/remove", "email_remove", email_remove, ["POST"]),
    ]
    for rule, endpoint, view, methods in rules:
        blueprint.add_url_rule(rule, endpoint, view, methods=methods)


def email_page(subject: str, *, error: OtpgateError | None = None) -> Response:
    challenge = current_challenge(str(session.get(ENROLL_KEY, "")), subject)
    if wants_json():
        from .web import json_error

        data = {"challenge": challenge_json(challenge)}
        return json_error(error, **data) if error else json_ok(data)
    return render(
        "otpgate/email.html",
        error=error,
        challenge=challenge,
        wait=wait_seconds(challenge),
        digits=state().settings.code_digits,
    )


def email() -> Response:
    """GET: the address form, or the code form while a verification runs. POST: send."""
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never a send
        subject, _ = signed_in()
        return email_page(subject)
    subject, _ = signed_in("change")
    try:
        setup = state().verifier.setup(
            subject, FACTOR, destination=text_field("email"), client_ip=client_ip(), locale=locale()
        )
    except OtpgateError as error:
        session.pop(ENROLL_KEY, None)
        return email_page(subject, error=error)
    challenge = setup.challenge
    session[ENROLL_KEY] = challenge.id if challenge is not None else ""
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return redirect(url_for(state().endpoint("email")), code=303)


def email_resend() -> Response:
    subject, _ = signed_in("change")
    try:
        challenge = state().verifier.resend(str(session.get(ENROLL_KEY, "")), client_ip())
    except OtpgateError as error:
        return email_page(subject, error=error)
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return redirect(url_for(state().endpoint("email")), code=303)


def email_confirm() -> Response:
    subject, _ = signed_in("change")
    try:
        state().verifier.verify(
            subject,
            FACTOR,
            text_field("code"),
            purpose="enroll",
            challenge_id=str(session.get(ENROLL_KEY, "")) or None,
            may_change_factors=True,
        )
    except OtpgateError as error:
        return email_page(subject, error=error)
    session.pop(ENROLL_KEY, None)
    record_pass(subject, FACTOR)
    return done(translate("Email address verified."))


def email_remove() -> Response:
    subject, _ = signed_in("change")
    gate = state().verifier
    index = field("index")
    credentials = gate.credentials
    addresses = credentials.emails(subject) if isinstance(credentials, EmailCredentials) else []
    if isinstance(index, str) and index.isascii() and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(addresses):
        raise MalformedInput(N_("Choose an email address to remove."))
    gate.remove_email(subject, addresses[index])
    return done(translate("Email address removed."))
