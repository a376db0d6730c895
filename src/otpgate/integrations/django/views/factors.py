"""One set of views to add and remove any factor, parametrised by the factor's name (the
URLconf passes ``factor``); nothing here names a factor in its control flow.

- ``add`` / ``verify``: a factor added by typing an address a code is sent to (SMS, email):
  ``gate.setup`` sends the code, ``gate.verify(..., purpose="enroll")`` proves it; templates
  ``otpgate/<page>_add.html`` and ``otpgate/<page>_verify.html`` (``core.factors.changes``);
- ``remove``: what is removed and a button to confirm (``otpgate/remove.html``, or a site's
  ``otpgate/<page>_remove.html``); only a POST carrying the confirmation removes, and never
  the last factor of a user who must keep one.

Every POST is a change of factors and needs a fresh second factor, and so does the
confirmation page (``manage._enter``); a user's first factor needs none. A change queues a
success notice (``notices.notify``) and sends ``factor_added``/``factor_removed``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from otpgate.core.errors import OtpgateError
from otpgate.core.factors import changes
from otpgate.core.i18n import gettext
from otpgate.core.web import challenge_view

from .. import policy, runtime
from ..models import VerifiedEmail, VerifiedPhone
from ..notices import notify
from ..session import client_ip, locale_of
from .common import field, page, redirect, with_next
from .manage import Ctx, _done, _enter, _operation

#: The rows a removal URL's ``pk`` names, by factor: the model and its field holding the ref.
ROWS: dict[str, tuple[Any, str]] = {
    "sms": (VerifiedPhone, "e164"),
    "email": (VerifiedEmail, "address"),
}


@never_cache
@csrf_protect
def add(request: HttpRequest, factor: str) -> HttpResponse:
    """Enter an address; a code (purpose ``enroll``) sent there proves it, on ``verify``."""
    kind = changes.address_kind(factor)
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    error: OtpgateError | None = None
    if request.method == "POST":
        try:
            setup = ctx.gate.setup(
                ctx.subject,
                kind.factor,
                destination=field(request, kind.field),
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            ctx.data.extra[kind.slot] = setup.challenge.id if setup.challenge else ""
            ctx.data.save()
            return redirect(f"otpgate:{kind.page}_verify", ctx.next)
        except OtpgateError as failure:
            error = failure
    context = {kind.field: field(request, kind.field)[: kind.max_length], "next": ctx.next}
    return page(request, f"otpgate/{kind.page}_add.html", context, error=error)


@never_cache
@csrf_protect
def verify(request: HttpRequest, factor: str) -> HttpResponse:
    """The code sent to the new address; on success the factor is added."""
    kind = changes.address_kind(factor)
    ctx = _enter(request, _operation(request))
    if isinstance(ctx, HttpResponse):
        return ctx
    challenge_id = ctx.data.text(kind.slot)
    if not challenge_id:
        return redirect(f"otpgate:{kind.page}_add", ctx.next)
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
                    kind.factor,
                    field(request, "code"),
                    purpose="enroll",
                    challenge_id=challenge_id,
                    may_change_factors=True,
                )
                ctx.data.extra.pop(kind.slot, None)
                ctx.data.state.passed(verification)
                ctx.data.save()
                notify(request, changes.added_notice(kind.factor))
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
        "restart_url": with_next(f"otpgate:{kind.page}_add", ctx.next),
    }
    return page(request, f"otpgate/{kind.page}_verify.html", context, error=error)


def _item(ctx: Ctx, factor: str, pk: int | None, credential_id: str | None) -> changes.Removable:
    """The item the URL names (a row's ``pk``, a passkey's id, or the factor's only one);
    404 if it is not this user's."""
    ref = credential_id or ""
    if pk is not None:
        model, name = ROWS[factor]
        row = model.objects.filter(pk=pk, user_id=ctx.subject).first()
        if row is None:
            raise Http404("no such factor")
        ref = getattr(row, name)
    for item in changes.removable(ctx.gate, ctx.subject, factor):
        if item.ref == ref:
            return item
    raise Http404("no such factor")


@never_cache
@csrf_protect
def remove(
    request: HttpRequest, factor: str, pk: int | None = None, credential_id: str | None = None
) -> HttpResponse:
    """GET, or a POST without the confirmation: what is removed and a button to confirm;
    the confirmed POST removes it. Both need a fresh second factor (a step-up first comes
    back to this page)."""
    ctx = _enter(request, "change")
    if isinstance(ctx, HttpResponse):
        return ctx
    item = _item(ctx, factor, pk, credential_id)
    step = changes.removal_step(
        confirmed=request.method == "POST"
        and changes.confirmed(field(request, changes.CONFIRM_FIELD)),
        required=policy.is_required(ctx.user, runtime.options().required),
        primary_count=ctx.gate.factors(ctx.subject).primary_count,
        removes_primary=item.primary,
    )
    if isinstance(step, OtpgateError):
        return page(request, "otpgate/manage_error.html", {}, error=step)
    if step == "remove":
        changes.remove_factor(ctx.gate, ctx.subject, item)
        notify(request, changes.removed_notice(factor))
        return _done(ctx)
    locale = locale_of(request)
    texts = changes.removal_texts(factor)
    context = {
        "item": item,
        "title": gettext(texts.title, locale),
        "explanation": gettext(texts.explanation, locale),
        "confirm_field": changes.CONFIRM_FIELD,
        "next": ctx.next,
        # what a site's own otpgate/passkey_remove.html (before this page) reads
        "passkey": {"name": item.shown, "credential_id": item.ref},
    }
    templates = [f"otpgate/{changes.page_of(factor)}_remove.html", "otpgate/remove.html"]
    return page(request, templates, context)
