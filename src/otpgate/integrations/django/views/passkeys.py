"""Passkeys on the management pages: add one (named by the user), rename one, and the passkey
script the pages load (removing one, after a confirmation step: ``factors.remove``).

Adding and removing are changes of factors: they need a fresh second factor, like every
change (``manage.py``); a user's first factor needs none. Adding is two steps, each a POST:
``start`` names the passkey and answers with a page holding the creation options; the
browser creates the passkey when the user presses the button (a user gesture), and the form
posts its answer (``finish``), which ``gate.verify(..., purpose="enroll")`` proves. Renaming
(each passkey's small form on the management page) is a change too; the core checks the name
(``gate.passkeys.rename``: 1 to 64 printable characters), and a refusal shows the form again
on a page of its own, with the core's message.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from otpgate.core.errors import OtpgateError, PasskeyNotFound
from otpgate.core.factors import browser
from otpgate.core.factors.changes import added_notice
from otpgate.core.factors.selection import serves
from otpgate.core.factors.webauthn_manage import NAME_LENGTH, NO_SUCH_PASSKEY, RENAMED_NOTICE
from otpgate.web_assets import webauthn_script

from ..accounts import account_label
from ..notices import notify
from ..session import client_ip, locale_of
from .common import field, page, with_next
from .manage import Ctx, _done, _enter, _may_change, _operation

FACTOR = "webauthn"
#: The session slot of the challenge a passkey being added was created with.
SLOT = "enroll"


def script(request: HttpRequest) -> HttpResponse:
    """``otpgate-webauthn.js``, the first-party passkey script, from the package (no CDN)."""
    response = HttpResponse(webauthn_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def rows(ctx: Ctx) -> list[dict[str, Any]] | None:
    """The user's passkeys (name, added, last used) for the management page; None where the
    site has not configured passkeys (no section then)."""
    registry, settings = ctx.gate.registry, ctx.gate.settings
    if FACTOR not in registry or not serves(registry.get(FACTOR), "enroll", settings):
        return None
    return [
        {
            "id": key.credential_id,
            "name": key.name,
            "created": _when(key.created_at),
            "last_used": _when(key.last_used_at),
        }
        for key in ctx.gate.passkeys.list(ctx.subject)
    ]


def _when(at: float | None) -> datetime | None:
    return datetime.fromtimestamp(at, tz=timezone.utc) if at else None


def _start(ctx: Ctx, name: str) -> dict[str, Any] | None:
    setup = ctx.gate.setup(
        ctx.subject,
        FACTOR,
        name=name or None,
        label=account_label(ctx.user),
        client_ip=client_ip(ctx.request),
        locale=locale_of(ctx.request),
    )
    browser.remember(ctx.request.session, SLOT, setup.challenge)
    return browser.options_of(setup.challenge)


def _finish(ctx: Ctx) -> HttpResponse:
    verification = ctx.gate.verify(
        ctx.subject,
        FACTOR,
        field(ctx.request, "credential"),
        purpose="enroll",
        challenge_id=browser.recalled(ctx.request.session, SLOT) or None,
        may_change_factors=_may_change(ctx),
    )
    browser.remember(ctx.request.session, SLOT, None)
    ctx.data.state.passed(verification)
    ctx.data.save()
    notify(ctx.request, added_notice(FACTOR))
    return _done(ctx)


@never_cache
@csrf_protect
def passkey_add(request: HttpRequest) -> HttpResponse:
    """GET: name the passkey. POST ``start``: the page that creates it in the browser;
    POST ``finish``: its answer, checked by the core; the passkey is then listed."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    error: OtpgateError | None = None
    options: dict[str, Any] | None = None
    name = field(request, "name").strip()[:64]
    action = field(request, "action") if request.method == "POST" else ""
    try:
        if action == "finish":
            return _finish(ctx)
        if action == "start":
            options = _start(ctx, name)
    except OtpgateError as failure:
        error = failure
    context = {
        "name": name,
        "browser_options": browser.options_json(options),
        "next": ctx.next,
        "manage_url": with_next("otpgate:manage", ctx.next),
    }
    return page(request, "otpgate/passkey_add.html", context, error=error)


@never_cache
@csrf_protect
def passkey_rename(request: HttpRequest, credential_id: str) -> HttpResponse:
    """GET: the form that renames one passkey; POST ``name``: rename it (a change: a fresh
    second factor first), then back to the management page. A refused name or an unknown
    passkey answers this page with the core's error (4xx), renaming nothing."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    current = next(
        (
            key.name
            for key in ctx.gate.passkeys.list(ctx.subject)
            if key.credential_id == credential_id
        ),
        None,
    )
    error: OtpgateError | None = None
    name = current or ""
    try:
        if request.method == "POST":
            name = field(request, "name")
            if not ctx.gate.passkeys.rename(ctx.subject, credential_id, name):
                raise PasskeyNotFound(NO_SUCH_PASSKEY)
            notify(request, RENAMED_NOTICE)
            return _done(ctx)
        if current is None:
            raise PasskeyNotFound(NO_SUCH_PASSKEY)
    except OtpgateError as failure:
        error = failure
    context = {
        "credential_id": credential_id,
        "current": current,
        "name": name,
        "name_length": NAME_LENGTH,
        "next": ctx.next,
        "manage_url": with_next("otpgate:manage", ctx.next),
    }
    return page(request, "otpgate/passkey_rename.html", context, error=error)
