"""Passkeys on the management pages: add one (named by the user), rename one, and the passkey
script the pages load (removing one, after a confirmation step: ``views_factors.remove``).

Adding and removing change the user's factors: a fresh second factor first, as for every
change (``views_manage.signed_in("change")``); a user's first factor needs none. Adding takes
two POSTs: ``/passkey`` names it and answers with a page holding the creation options; the
browser creates the passkey when the user presses the button, and ``/passkey/finish`` posts
its answer, which ``gate.verify(..., purpose="enroll")`` proves. ``/passkey/rename`` (each
passkey's small form on the management page; ``?id=`` on GET, ``id`` and ``name`` posted) is
a change too; the core checks the name (``gate.passkeys.rename``), and a refusal shows the
form again on a page of its own, with the core's message.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, request, session
from werkzeug.wrappers import Response

from otpgate.core.errors import OtpgateError, PasskeyNotFound
from otpgate.core.factors import browser
from otpgate.core.factors.changes import added_notice
from otpgate.core.factors.selection import serves
from otpgate.core.factors.webauthn_manage import NAME_LENGTH, NO_SUCH_PASSKEY, RENAMED_NOTICE
from otpgate.web_assets import webauthn_script

from .views_manage import done, record_pass, signed_in
from .web import (
    challenge_json,
    client_ip,
    is_post,
    json_error,
    json_ok,
    locale,
    render,
    state,
    text_field,
    translate,
    wants_json,
)

FACTOR = "webauthn"
#: The session slot of the challenge a passkey being added was created with.
SLOT = "enroll"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/passkey", "passkey", passkey_add, methods=["GET", "POST"])
    blueprint.add_url_rule("/passkey/finish", "passkey_finish", passkey_finish, methods=["POST"])
    rename = passkey_rename
    blueprint.add_url_rule("/passkey/rename", "passkey_rename", rename, methods=["GET", "POST"])
    blueprint.add_url_rule("/webauthn.js", "script", script, methods=["GET"])


def script() -> Response:
    """``otpgate-webauthn.js``, the first-party passkey script, from the package (no CDN)."""
    response = Response(webauthn_script(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def offered() -> bool:
    """True where the site configured passkeys (the page then has a passkey section)."""
    registry, settings = state().verifier.registry, state().settings
    return FACTOR in registry and serves(registry.get(FACTOR), "enroll", settings)


def _when(at: float | None) -> str:
    if not at:
        return ""
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def rows(subject: str) -> list[dict[str, Any]] | None:
    """The user's passkeys for the list (name, added, last used), or None where the site
    has no passkeys."""
    if not offered():
        return None
    return [
        {
            "id": key.credential_id,
            "name": key.name,
            "created": _when(key.created_at),
            "last_used": _when(key.last_used_at),
        }
        for key in state().verifier.passkeys.list(subject)
    ]


def _page(
    name: str = "", options: dict[str, Any] | None = None, error: OtpgateError | None = None
) -> Response:
    if wants_json():
        return json_error(error) if error is not None else json_ok({"browser_options": options})
    return render("otpgate/passkey.html", name=name, browser_options=options, error=error)


def passkey_add() -> Response:
    """GET: name the passkey. POST: the page that creates it in the browser."""
    if not is_post():
        signed_in()
        return _page()
    subject, _ = signed_in("change")
    name = text_field("name").strip()[:64]
    gate = state()
    label = gate.account_label(subject) if gate.account_label else subject
    try:
        setup = gate.verifier.setup(
            subject, FACTOR, name=name or None, label=label, client_ip=client_ip(), locale=locale()
        )
    except OtpgateError as error:
        return _page(name, error=error)
    browser.remember(session, SLOT, setup.challenge)
    if wants_json():  # the challenge with its creation options, for a script of the app's
        return json_ok({"challenge": challenge_json(setup.challenge)}, 201)
    return _page(name, browser.options_of(setup.challenge))


def passkey_finish() -> Response:
    """The browser's answer: the core proves it and keeps the passkey."""
    subject, _ = signed_in("change")
    try:
        verification = state().verifier.verify(
            subject,
            FACTOR,
            text_field("credential"),
            purpose="enroll",
            challenge_id=browser.recalled(session, SLOT) or None,
            may_change_factors=True,  # signed_in("change") decided it
        )
    except OtpgateError as error:
        return _page(error=error)
    browser.remember(session, SLOT, None)
    record_pass(verification.subject, FACTOR)
    return done(translate(added_notice(FACTOR)))


def passkey_rename() -> Response:
    """GET ``?id=``: the form that renames one passkey; POST ``id`` and ``name``: rename it
    (a change: a fresh second factor first), then back to the management page (JSON: the
    factors). A refused name or an unknown passkey answers this page with the core's error
    (4xx), renaming nothing."""
    subject, _ = signed_in("change" if is_post() else "view")
    gate = state().verifier
    wanted = text_field("id") if is_post() else request.args.get("id", "")
    current = next(
        (key.name for key in gate.passkeys.list(subject) if key.credential_id == wanted), None
    )
    name = current or ""
    error: OtpgateError | None = None
    try:
        if is_post():
            name = text_field("name")
            if not gate.passkeys.rename(subject, wanted, name):
                raise PasskeyNotFound(NO_SUCH_PASSKEY)
            return done(translate(RENAMED_NOTICE))
        if current is None:
            raise PasskeyNotFound(NO_SUCH_PASSKEY)
    except OtpgateError as failure:
        if wants_json():
            return json_error(failure)
        error = failure
    return render(
        "otpgate/passkey_rename.html",
        error=error,
        credential_id=wanted,
        current=current,
        name=name,
        name_length=NAME_LENGTH,
    )
