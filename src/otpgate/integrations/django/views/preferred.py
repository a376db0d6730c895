"""The preferred factor: the one the second step opens on (``otpgate:preferred`` and
``otpgate:api_preferred``).

Choosing it adds or removes nothing, so it needs what seeing the factor pages needs (the core's
``manage_error(operation="view")``: signed in, second factor passed), and CSRF like every POST.
The core decides which names may be stored (``gate.set_preferred_factor``: a factor the user
has; an empty name goes back to the strongest one).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from otpgate.core.errors import LoginRequired, OtpgateError
from otpgate.core.web import manage_error

from .. import policy
from .api import Call, _run
from .common import field, page
from .manage import _enter


@never_cache
@require_POST
@csrf_protect
def preferred(request: HttpRequest) -> HttpResponse:
    """POST ``factor``: store the factor the user's second step opens on ('' for the
    strongest they have); back to the management page."""
    ctx = _enter(request, "view")
    if isinstance(ctx, HttpResponse):
        return ctx
    try:
        ctx.gate.set_preferred_factor(ctx.subject, field(request, "factor") or None)
    except OtpgateError as error:
        return page(request, "otpgate/manage_error.html", {}, error=error)
    return HttpResponseRedirect(ctx.next or reverse("otpgate:manage"))


async def _preferred(call: Call) -> dict[str, Any]:
    actor, gate = call.who(), call.gate
    if actor.user is None:
        raise LoginRequired()
    missing = manage_error(
        call.data.state,
        actor.subject,
        gate.clock(),
        operation="view",
        step_up_max_age=gate.settings.step_up_max_age,
        has_factor=await policy.ahas_factor(actor.subject),
    )
    if missing is not None:
        raise missing
    name = call.factor("factor", "") if call.body.get("factor") else None  # null: strongest
    await gate.set_preferred_factor(actor.subject, name)
    options = await gate.offer(actor.subject, "login")
    return {
        "preferred": await gate.preferred_factor(actor.subject),
        "factors": [option.as_dict() for option in options],
    }


async def api_preferred(request: HttpRequest) -> HttpResponseBase:
    """``{"factor": name}`` (or null: the strongest): the factor the second step opens on.
    Answers ``preferred`` and the ``factors`` offered for signing in, preferred first."""
    return await _run(request, _preferred)
