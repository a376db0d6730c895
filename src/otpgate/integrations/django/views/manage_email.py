"""Email addresses: add one (a code proves it), remove one. Like the phone pages, every POST
is a change of factors and needs a fresh second factor (``manage.py``'s ``_enter``), except the
first factor of a user who has none. Adding goes through the factor model (``gate.setup`` and
``gate.verify(..., purpose="enroll")``), as any factor that proves itself with a code would.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from otpgate.core.errors import LastFactor, OtpgateError
from otpgate.core.web import challenge_view

from ..models import VerifiedEmail
from ..session import client_ip, locale_of
from .common import field, page, redirect, with_next
from .manage import _done, _enter, _keeps_required_factor, _operation

FACTOR = "email"


@never_cache
@csrf_protect
def email_add(request: HttpRequest) -> HttpResponse:
    """Enter an address; an emailed code (purpose ``enroll``) proves it, on ``email_verify``."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    error: OtpgateError | None = None
    if request.method == "POST":
        try:
            setup = ctx.gate.setup(
                ctx.subject,
                FACTOR,
                destination=field(request, "email"),
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            if setup.challenge is not None:
                ctx.data.extra["email_enroll_id"] = setup.challenge.id
                ctx.data.save()
            return redirect("otpgate:email_verify", ctx.next)
        except OtpgateError as failure:
            error = failure
    context = {"email": field(request, "email")[:254], "next": ctx.next}
    return page(request, "otpgate/email_add.html", context, error=error)


@never_cache
@csrf_protect
def email_verify(request: HttpRequest) -> HttpResponse:
    """The code sent to the new address; on success the address is added."""
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    challenge_id = ctx.data.text("email_enroll_id")
    if not challenge_id:
        return redirect("otpgate:email_add", ctx.next)
    error: OtpgateError | None = None
    notice = ""
    if request.method == "POST":
        try:
            if field(request, "action") == "resend":
                ctx.gate.resend(challenge_id, client_ip=client_ip(request))
                notice = "sent"
            else:
                verification = ctx.gate.verify(
                    ctx.subject,
                    FACTOR,
                    field(request, "code"),
                    purpose="enroll",
                    challenge_id=challenge_id,
                    may_change_factors=True,
                )
                ctx.data.extra.pop("email_enroll_id", None)
                ctx.data.state.passed(verification)
                ctx.data.save()
                return _done(ctx)
        except OtpgateError as failure:
            error = failure
    try:
        challenge = ctx.gate.get(challenge_id, subject=ctx.subject)
    except OtpgateError:
        challenge = None
    context = {
        "challenge": challenge_view(challenge, ctx.gate.clock()) if challenge else None,
        "notice": notice,
        "next": ctx.next,
        "code_digits": ctx.gate.settings.code_digits,
        "restart_url": with_next("otpgate:email_add", ctx.next),
    }
    return page(request, "otpgate/email_verify.html", context, error=error)


@require_POST
@csrf_protect
def email_remove(request: HttpRequest, pk: int) -> HttpResponse:
    ctx = _enter(request, "change")
    if isinstance(ctx, HttpResponse):
        return ctx
    row = get_object_or_404(VerifiedEmail, pk=pk, user_id=ctx.subject)
    if not _keeps_required_factor(ctx):
        return page(request, "otpgate/manage_error.html", {}, error=LastFactor())
    ctx.gate.remove_email(ctx.subject, row.address)
    return _done(ctx)
