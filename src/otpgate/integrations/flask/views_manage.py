"""Enrollment and management of factors: the overview, the authenticator app, recovery codes
(adding a phone number or an address and removing any factor: ``views_factors.py``).

Every page needs a signed-in user who passed a second factor in this session (when they
have one); every change needs a fresh one (``step_up_max_age``): adding, confirming, resending
a code for a number being added, regenerating and removing alike, whatever the request holds
(the core's ``manage_error`` decides from the session's state and the operation). Recovery
codes are shown once, in the answer that made them.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from otpgate.core import form_once
from otpgate.core.credentials import Factors
from otpgate.core.errors import (
    LoginRequired,
    OtpgateError,
    PrimaryFactorRequired,
)
from otpgate.core.factors.changes import RECOVERY_CODES_NOTICE, added_notice
from otpgate.core.factors.selection import has_factor, preferable_options
from otpgate.core.recovery_sheet import recovery_sheet
from otpgate.core.web import FactorOperation, SecondFactorState, manage_error

from . import devices
from .notices import notify, pending
from .web import (
    csrf_token,
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
    wants_json,
)


def register(blueprint: Blueprint) -> None:
    rules = [
        ("/", "manage", manage, ["GET"]),
        ("/totp", "totp", totp_start, ["POST"]),
        ("/totp/confirm", "totp_confirm", totp_confirm, ["POST"]),
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
    notify(message)
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
    choices = preferable_options(options)  # what the "preferred factor" menu lists
    if wants_json():
        return json_ok(
            {
                **factors_json(factors),
                "preferred_factor": preferred,
                "available_factors": [option.name for option in options],
                "preferable_factors": [option.name for option in choices],
                "remembered_devices": devices.rows(subject),
                "csrf_token": csrf_token(),
            }
        )
    messages = pending()
    from .views_passkeys import rows

    return render(
        "otpgate/manage.html",
        factors=factors,
        messages=messages,
        options=choices,
        preferred=preferred,
        devices=devices.rows(subject),
        remembering=devices.enabled(),
        email_codes=state().verifier.email_sender is not None,
        passkeys=rows(subject),
        once=form_once.issue(session, RECOVERY_FORM),
    )


def preferred_set() -> Response:
    """Choose the factor the second step opens on among the user's own (``factor``; empty:
    back to the strongest). It adds or removes nothing, so it needs what viewing needs."""
    subject, _ = signed_in("view")
    state().verifier.set_preferred_factor(subject, text_field("factor") or None)
    return done(translate("Preferred factor saved."))


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
    return done(translate(added_notice("totp")))


# -- recovery codes --------------------------------------------------------------------------


def recovery_generate() -> Response:
    """New recovery codes (the old ones stop working), shown in this answer only."""
    subject, factors = signed_in("change")
    if not factors.primary_count:
        raise PrimaryFactorRequired()
    gate = state()
    refused = None if wants_json() else _refusal()
    if refused is not None:
        # A reload, a resubmission or a stale form: no new set (the codes it made stay
        # valid); the page says why and offers a fresh form.
        once = form_once.issue(session, RECOVERY_FORM)
        return render("otpgate/recovery.html", codes=[], sheet=None, once=once, refused=refused)
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
    # The notice is this page's own, not a flash another page would show later.
    notice = translate(RECOVERY_CODES_NOTICE)
    return render("otpgate/recovery.html", codes=codes, sheet=sheet, notice=notice)


#: The :mod:`otpgate.core.form_once` purpose of the "make new recovery codes" form.
RECOVERY_FORM = "recovery"


def _refusal() -> form_once.Refusal | None:
    """Why this form POST must make no new set (None: the first submission of a rendered
    form, its one-time token now used). A form without the token never acts."""
    return form_once.check(session, RECOVERY_FORM, request.form.get(form_once.FIELD))
