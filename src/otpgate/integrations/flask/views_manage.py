"""Enrollment and management of factors: phone numbers, authenticator app, recovery codes.

Every page needs a signed-in user who passed a second factor in this session (when they
have one); every change needs a fresh one (``step_up_max_age``): adding, confirming, resending
a code for a number being added, regenerating and removing alike, whatever the request holds
(the core's ``manage_error`` decides from the session's state and the operation). Recovery
codes are shown once, in the answer that made them.
"""

from __future__ import annotations

from flask import Blueprint, flash, get_flashed_messages, redirect, session, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from otpgate.core.credentials import Factors
from otpgate.core.errors import (
    LoginRequired,
    MalformedInput,
    OtpgateError,
    PrimaryFactorRequired,
)
from otpgate.core.factors.selection import has_factor
from otpgate.core.i18n import N_
from otpgate.core.recovery_sheet import recovery_sheet
from otpgate.core.web import FactorOperation, SecondFactorState, manage_error

from . import devices
from .views_verify import current_challenge
from .web import (
    challenge_json,
    client_ip,
    csrf_token,
    field,
    is_post,
    json_ok,
    load_state,
    locale,
    now,
    render,
    rotate_session,
    save_state,
    state,
    text_field,
    translate,
    wait_seconds,
    wants_json,
)

ENROLL_KEY = "_otpgate_enroll"


def register(blueprint: Blueprint) -> None:
    rules = [
        ("/", "manage", manage, ["GET"]),
        ("/phone", "phone", phone, ["GET", "POST"]),
        ("/phone/resend", "phone_resend", phone_resend, ["POST"]),
        ("/phone/confirm", "phone_confirm", phone_confirm, ["POST"]),
        ("/phone/remove", "phone_remove", phone_remove, ["POST"]),
        ("/totp", "totp", totp_start, ["POST"]),
        ("/totp/confirm", "totp_confirm", totp_confirm, ["POST"]),
        ("/totp/remove", "totp_remove", totp_remove, ["POST"]),
        ("/recovery", "recovery", recovery_generate, ["POST"]),
        ("/preferred", "preferred", preferred_set, ["POST"]),
    ]
    for rule, endpoint, view, methods in rules:
        blueprint.add_url_rule(rule, endpoint, view, methods=methods)


def signed_in(operation: FactorOperation = "view") -> tuple[str, Factors]:
    """The user and their factors; a user with factors must have passed one in this
    session, and within ``step_up_max_age`` for a ``"change"``."""
    gate = state()
    subject = gate.users.current_subject()
    if not subject:
        raise LoginRequired()
    factors = gate.verifier.factors(subject)
    missing = manage_error(
        load_state(),
        subject,
        now(),
        operation=operation,
        step_up_max_age=gate.settings.step_up_max_age,
        has_factor=has_factor(gate.verifier.registry, factors),
    )
    if missing is not None:
        raise missing
    return subject, factors


def factors_json(factors: Factors) -> dict[str, object]:
    return {
        "masked_phones": list(factors.masked_phones),
        "masked_emails": list(factors.masked_emails),
        "totp": factors.totp,
        "recovery_codes_left": factors.recovery_codes_left,
        "passkeys": list(factors.passkeys),
    }


def done(message: str) -> Response:
    """After a change: JSON with the factors, or back to the management page."""
    _subject, factors = signed_in()
    if wants_json():
        return json_ok({"status": "ok", "factors": factors_json(factors)})
    flash(message, "otpgate-success")
    return redirect(url_for(state().endpoint("manage")), code=303)


def record_pass(verification_subject: str, factor: str) -> None:
    """Proving a new factor counts as passing it in this session."""
    from otpgate.core.challenge import Verification

    rotate_session(keep_auth=True)
    fresh = SecondFactorState()
    fresh.passed(Verification(verification_subject, "enroll", factor, now()))
    save_state(fresh)


def manage() -> Response:
    subject, factors = signed_in()
    options = state().verifier.offer(subject, "login")
    preferred = next((option.name for option in options if option.preferred), None)
    if wants_json():
        return json_ok(
            {
                **factors_json(factors),
                "preferred_factor": preferred,
                "available_factors": [option.name for option in options],
                "remembered_devices": devices.rows(subject),
                "csrf_token": csrf_token(),
            }
        )
    messages = get_flashed_messages(with_categories=True)
    from .views_passkeys import rows

    return render(
        "otpgate/manage.html",
        factors=factors,
        messages=messages,
        options=options,
        preferred=preferred,
        devices=devices.rows(subject),
        remembering=devices.enabled(),
        email_codes=state().verifier.email_sender is not None,
        passkeys=rows(subject),
    )


def preferred_set() -> Response:
    """Choose the factor the second step opens on among the user's own (``factor``; empty:
    back to the strongest). It adds or removes nothing, so it needs what viewing needs."""
    subject, _ = signed_in("view")
    state().verifier.set_preferred_factor(subject, text_field("factor") or None)
    return done(translate("Preferred factor saved."))


# -- phone numbers ---------------------------------------------------------------------------


def phone_page(subject: str, *, error: OtpgateError | None = None) -> Response:
    challenge = current_challenge(str(session.get(ENROLL_KEY, "")), subject)
    if wants_json():
        from .web import json_error

        data = {"challenge": challenge_json(challenge)}
        return json_error(error, **data) if error else json_ok(data)
    return render(
        "otpgate/phone.html",
        error=error,
        challenge=challenge,
        wait=wait_seconds(challenge),
        digits=state().settings.code_digits,
    )


def phone() -> Response:
    """GET: the number form, or the code form while a verification runs. POST: send."""
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never a send
        subject, _ = signed_in()
        return phone_page(subject)
    subject, _ = signed_in("change")
    try:
        challenge = state().verifier.start_sms(
            subject, text_field("phone"), "enroll", client_ip=client_ip(), locale=locale()
        )
    except OtpgateError as error:
        session.pop(ENROLL_KEY, None)
        return phone_page(subject, error=error)
    session[ENROLL_KEY] = challenge.id
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return redirect(url_for(state().endpoint("phone")), code=303)


def phone_resend() -> Response:
    subject, _ = signed_in("change")
    try:
        challenge = state().verifier.resend(str(session.get(ENROLL_KEY, "")), client_ip())
    except OtpgateError as error:
        return phone_page(subject, error=error)
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return redirect(url_for(state().endpoint("phone")), code=303)


def phone_confirm() -> Response:
    subject, _ = signed_in("change")
    enroll_id = str(session.get(ENROLL_KEY, ""))
    try:
        verification = state().verifier.check(
            enroll_id, text_field("code"), subject=subject, may_change_factors=True
        )
        if verification.purpose != "enroll":
            raise MalformedInput()
    except OtpgateError as error:
        return phone_page(subject, error=error)
    session.pop(ENROLL_KEY, None)
    record_pass(subject, "sms")
    return done(translate("Phone number verified."))


def phone_remove() -> Response:
    subject, _ = signed_in("change")
    gate = state().verifier
    index = field("index")
    numbers = gate.credentials.phones(subject)
    if isinstance(index, str) and index.isascii() and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(numbers):
        raise MalformedInput(N_("Choose a phone number to remove."))
    gate.remove_phone(subject, numbers[index])
    return done(translate("Phone number removed."))


# -- authenticator app -----------------------------------------------------------------------


def totp_start() -> Response:
    """A new secret: QR code and manual key, shown once, then a code confirms it."""
    gate = state()
    subject, _ = signed_in("change")
    label = gate.account_label(subject) if gate.account_label else subject
    enrollment = gate.verifier.totp.enroll(subject, label)
    if wants_json():
        data = {"secret": enrollment.secret, "uri": enrollment.uri, "qr_svg": enrollment.qr_svg}
        return json_ok(data, 201)
    secret = " ".join(enrollment.secret[i : i + 4] for i in range(0, len(enrollment.secret), 4))
    return render(
        "otpgate/totp.html",
        qr_svg=Markup(enrollment.qr_svg),  # noqa: S704  (SVG made by segno from our own URI)
        secret=secret,
        digits=gate.settings.totp_digits,
    )


def totp_confirm() -> Response:
    gate = state()
    subject, _ = signed_in("change")
    try:
        gate.verifier.totp.confirm(subject, text_field("code"))
    except OtpgateError as error:
        if wants_json():
            from .web import json_error

            return json_error(error)
        return render(
            "otpgate/totp.html", error=error, qr_svg=None, digits=gate.settings.totp_digits
        )
    record_pass(subject, "totp")
    return done(translate("Authenticator app set up."))


def totp_remove() -> Response:
    subject, _ = signed_in("change")
    state().verifier.totp.remove(subject)
    return done(translate("Authenticator app removed."))


# -- recovery codes --------------------------------------------------------------------------


def recovery_generate() -> Response:
    """New recovery codes (the old ones stop working), shown in this answer only."""
    subject, factors = signed_in("change")
    if not factors.primary_count:
        raise PrimaryFactorRequired()
    gate = state()
    codes = gate.verifier.recovery.generate(subject)
    if wants_json():
        return json_ok({"codes": codes}, 201)
    sheet = recovery_sheet(  # the file to download, made in this answer only
        codes,
        brand=gate.settings.brand,
        account=gate.account_label(subject) if gate.account_label else subject,
        created=now(),
        locale=locale(),
    )
    return render("otpgate/recovery.html", codes=codes, sheet=sheet)
