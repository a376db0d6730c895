"""Remembered devices on the management page: forget one, or all (after a confirmation).

Forgetting adds no trust, so it needs what viewing the page needs (a session that passed a
second factor), not a fresh step-up. Both are POST with Django's CSRF protection; what
happened is a notice (``notices.notify``) on the management page.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from otpgate.core.factors.changes import DEVICE_FORGOTTEN_NOTICE, DEVICES_FORGOTTEN_NOTICE
from otpgate.core.verifier import Verifier

from ..notices import notify
from ..session import SessionData
from .common import field
from .manage import _enter


def rows(gate: Verifier, subject: str) -> list[dict[str, Any]]:
    """The subject's devices as the management page shows them (nothing secret)."""
    if not gate.devices.enabled:
        return []
    return [
        {
            "ref": d.ref,
            "label": d.label,
            "place": d.place,
            "first_seen": datetime.fromtimestamp(d.created_at, timezone.utc),
            "last_seen": datetime.fromtimestamp(d.last_seen, timezone.utc),
        }
        for d in gate.devices.list(subject)
    ]


@never_cache
@csrf_protect
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    ctx = _enter(request, "view")
    if isinstance(ctx, HttpResponse):
        return ctx
    if ctx.gate.devices.revoke(ctx.subject, field(request, "device")):
        notify(request, DEVICE_FORGOTTEN_NOTICE)
    return HttpResponseRedirect(reverse("otpgate:manage"))


@never_cache
@csrf_protect
@require_POST
def revoke_all(request: HttpRequest) -> HttpResponse:
    ctx = _enter(request, "view")
    if isinstance(ctx, HttpResponse):
        return ctx
    if field(request, "confirm") not in ("1", "on"):
        _notice(ctx.data, "confirm")
        return HttpResponseRedirect(reverse("otpgate:manage"))
    ctx.gate.devices.revoke_all(ctx.subject)
    notify(request, DEVICES_FORGOTTEN_NOTICE)
    return HttpResponseRedirect(reverse("otpgate:manage"))


def _notice(data: SessionData, what: str) -> None:
    data.extra["devices_notice"] = what
    data.save()
