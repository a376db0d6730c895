"""Enrollment and management: the overview, the authenticator app, recovery codes (adding a
phone or an address and removing any factor: ``factors.py``).

Every page needs a logged-in user whose session passed a second factor (or who has none yet:
first set-up). Every POST here is a change of factors (adding, confirming, resending a code for
a number being added, regenerating, removing) and needs a *fresh* second factor
(``OTPGATE_STEP_UP_MAX_AGE``), except the first factor of a user who has none; so does seeing a
pending authenticator secret again. The core's ``manage_error`` decides, from the session's
state and the operation. Changes send ``factor_added``/``factor_removed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from otpgate.core import form_once
from otpgate.core.errors import OtpgateError, PrimaryFactorRequired
from otpgate.core.factors.changes import RECOVERY_CODES_NOTICE, added_notice
from otpgate.core.factors.selection import preferable_options
from otpgate.core.recovery_sheet import recovery_sheet
from otpgate.core.totp import TotpEnrollment
from otpgate.core.verifier import Verifier
from otpgate.core.web import FactorOperation, manage_error, may_change_factors

from .. import policy, runtime
from ..accounts import account_label
from ..models import TotpDevice, VerifiedEmail, VerifiedPhone
from ..notices import notify
from ..session import SessionData, locale_of, next_url
from .common import field, page, redirect


@dataclass
class Ctx:
    request: HttpRequest
    gate: Verifier
    data: SessionData
    user: Any
    subject: str
    has_factor: bool

    @property
    def next(self) -> str:
        raw = self.request.POST.get("next") or self.request.GET.get("next")
        return next_url(self.request, raw) if raw else ""


def _enter(request: HttpRequest, operation: FactorOperation) -> Ctx | HttpResponse:
    """The context, or the response that must come first (login, second step, step-up)."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    gate = runtime.get_verifier()
    data = SessionData(request.session)
    ctx = Ctx(request, gate, data, user, str(user.pk), policy.has_factor(str(user.pk)))
    missing = manage_error(
        data.state,
        ctx.subject,
        gate.clock(),
        operation=operation,
        step_up_max_age=gate.settings.step_up_max_age,
        has_factor=ctx.has_factor,
    )
    if missing is not None:
        return _step_up(request)
    return ctx


def _operation(request: HttpRequest) -> FactorOperation:
    """What a request to a factor page does: every POST changes factors, whatever it holds."""
    return "change" if request.method == "POST" else "view"


def _step_up(request: HttpRequest) -> HttpResponse:
    back = request.get_full_path() if request.method == "GET" else reverse("otpgate:manage")
    return redirect("otpgate:verify", back)


def _may_change(ctx: Ctx) -> bool:
    return may_change_factors(
        ctx.data.state,
        ctx.subject,
        ctx.gate.clock(),
        step_up_max_age=ctx.gate.settings.step_up_max_age,
        has_factor=ctx.has_factor,
    )


def device_rows(gate: Verifier, subject: str) -> list[dict[str, Any]]:
    from .devices import rows

    return rows(gate, subject)


def _done(ctx: Ctx) -> HttpResponse:
    return HttpResponseRedirect(ctx.next or reverse("otpgate:manage"))


@never_cache
def manage(request: HttpRequest) -> HttpResponse:
    """The overview: what is set up, and links to change it."""
    ctx = _enter(request, "view")
    if isinstance(ctx, HttpResponse):
        return ctx
    from .passkeys import rows as passkey_rows

    factors = ctx.gate.factors(ctx.subject)
    totp = TotpDevice.objects.filter(user_id=ctx.subject).first()
    # the "preferred factor" menu: the offered factors that may be chosen, preferred first
    choices = preferable_options(ctx.gate.offer(ctx.subject, "login"))
    context = {
        "phones": VerifiedPhone.objects.filter(user_id=ctx.subject),
        "emails": VerifiedEmail.objects.filter(user_id=ctx.subject),
        # addresses can be added where the site sends email codes
        "email_codes": ctx.gate.email_sender is not None,
        "totp": factors.totp,
        "totp_pending": totp is not None and not totp.confirmed,
        "recovery_left": factors.recovery_codes_left,
        # recovery codes back up a phone, an address, an app or a passkey: none, no section
        "primary": factors.primary_count,
        "required": policy.is_required(ctx.user, runtime.options().required),
        "has_factor": ctx.has_factor,
        "next": ctx.next,
        "choices": choices,
        "remembering": ctx.gate.devices.enabled,
        "devices": device_rows(ctx.gate, ctx.subject),
        "devices_notice": ctx.data.extra.pop("devices_notice", ""),
        "passkeys": passkey_rows(ctx),
    }
    if context["devices_notice"]:
        ctx.data.save()
    return page(request, "otpgate/manage.html", context)


@never_cache
@csrf_protect
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: QR code, manual key, then a code to confirm. Starting,
    confirming and showing a pending set-up again are all changes (fresh second factor)."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    error: OtpgateError | None = None
    setup: TotpEnrollment | None = None
    action = field(request, "action") if request.method == "POST" else ""
    try:
        if action == "start":
            setup = ctx.gate.totp.enroll(ctx.subject, account_label(ctx.user))
        elif action == "confirm":
            verification = ctx.gate.totp.confirm(ctx.subject, field(request, "code"))
            ctx.data.state.passed(verification)
            ctx.data.save()
            notify(request, added_notice(verification.factor))
            return _done(ctx)
    except OtpgateError as failure:
        error = failure
    if setup is None and _pending_totp(ctx):
        if not _may_change(ctx):
            return _step_up(request)
        setup = ctx.gate.totp.pending(ctx.subject, account_label(ctx.user))
    context = {
        "setup": setup,
        "secret_groups": _groups(setup.secret) if setup else [],
        "enrolled": ctx.gate.totp.is_enrolled(ctx.subject),
        "next": ctx.next,
        "code_digits": ctx.gate.settings.totp_digits,
    }
    return page(request, "otpgate/totp_setup.html", context, error=error)


def _pending_totp(ctx: Ctx) -> bool:
    credential = ctx.gate.credentials.get_totp(ctx.subject)
    return credential is not None and not credential.confirmed


def _groups(secret: str) -> list[str]:
    return [secret[i : i + 4] for i in range(0, len(secret), 4)]


@never_cache
@csrf_protect
def recovery(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once (needs a phone or an app first)."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    error: OtpgateError | None = None
    codes: list[str] = []
    refused: form_once.Refusal | None = None
    if request.method == "POST":
        if field(request, "action") == "remove":
            ctx.gate.recovery.remove(ctx.subject)
            return _done(ctx)
        if not ctx.gate.factors(ctx.subject).primary_count:
            error = PrimaryFactorRequired()
        # A reload, a resubmission or a stale form makes no new set; the page says why.
        elif (refused := _refusal(request)) is None:
            codes = ctx.gate.recovery.generate(ctx.subject)
            notify(request, RECOVERY_CODES_NOTICE)
    context = {
        "codes": codes,
        # The file to download, made in this answer: the codes are kept nowhere in clear.
        "sheet": recovery_sheet(
            codes,
            brand=ctx.gate.settings.brand,
            account=account_label(ctx.user),
            created=ctx.gate.clock(),
            locale=locale_of(request),
        )
        if codes
        else None,
        "left": ctx.gate.recovery.remaining(ctx.subject),
        "next": ctx.next,
        "already_shown": refused == "resent",
        "form_stale": refused == "stale",
        # The "make new codes" form acts once per rendering (core.form_once).
        "once": "" if codes else form_once.issue(request.session, RECOVERY_FORM),
    }
    return page(request, "otpgate/recovery.html", context, error=error)


#: The :mod:`otpgate.core.form_once` purpose of the "make new recovery codes" form.
RECOVERY_FORM = "recovery"


def _refusal(request: HttpRequest) -> form_once.Refusal | None:
    """Why this POST must make no new set (None: the first submission of a rendered form,
    its one-time token now used). A form without the token never acts."""
    token = request.POST.get(form_once.FIELD)
    return form_once.check(request.session, RECOVERY_FORM, token)
