"""The JSON API's ``enroll``: adding a factor through the core's factor model.

Without ``code`` the factor's set-up starts (``gate.setup``: an SMS to ``phone``, an app's
secret, new recovery codes); with ``code`` it is proved (``gate.verify(..., purpose="enroll")``).
Every call is a change of factors: it needs a second factor passed within
``step_up_max_age`` (or a user with no factor yet), whatever the body holds.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase

from ..accounts import account_label
from ..session import client_ip, locale_of
from .api import Call, _run


async def _enroll(call: Call) -> dict[str, Any]:
    """Add a factor through the core's factor model: without ``code`` start its set-up
    (``gate.setup``), with ``code`` prove it (``gate.verify(..., purpose="enroll")``)."""
    actor, gate = call.who(), call.gate
    await call.may_change(actor)  # starting and finishing a set-up alike
    name, code = call.factor("factor", ""), call.text("code")
    if code:
        verification = await gate.verify(
            actor.subject,
            name,
            code,
            purpose="enroll",
            challenge_id=call.data.text("enroll_id") or None,
            may_change_factors=True,  # may_change() passed above
        )
        call.data.extra.pop("enroll_id", None)
        call.data.state.passed(verification)
        return {"enrolled": verification.factor}
    assert actor.user is not None
    setup = await gate.setup(
        actor.subject,
        name,
        label=account_label(actor.user),
        destination=call.text("phone"),
        client_ip=client_ip(call.request),
        locale=locale_of(call.request),
    )
    challenge = setup.challenge
    if challenge is not None:
        call.data.extra["enroll_id"] = challenge.id
    return setup.secrets() or {"challenge": call.challenge(challenge) if challenge else None}


async def enroll(request: HttpRequest) -> HttpResponseBase:
    """``{"factor": "sms", "phone"}`` then ``{"factor": "sms", "code"}``; ``{"factor": "totp"}``
    then ``{"factor": "totp", "code"}``; ``{"factor": "recovery"}``."""
    return await _run(request, _enroll)
