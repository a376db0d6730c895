"""The JSON API's ``enroll``: adding a factor through the core's factor model.

Without ``code`` a factor is started for ``enroll`` (``gate.start``: an SMS to ``phone``) or,
for a factor whose set-up is not a challenge, its set-up is handed over (an app's secret,
new recovery codes); with ``code`` it is proved (``gate.verify(..., purpose="enroll")``).
Every call is a change of factors: it needs a second factor passed within
``step_up_max_age`` (or a user with no factor yet), whatever the body holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from otpgate.core.errors import PrimaryFactorRequired
from otpgate.core.factors import AuthenticatorFactor, RecoveryCodeFactor

from ..session import Actor, client_ip, locale_of
from .api import Call, _run


async def _app_setup(call: Call, actor: Actor) -> dict[str, Any]:
    assert actor.user is not None
    setup = await call.gate.totp.enroll(actor.subject, actor.user.get_username())
    return {"secret": setup.secret, "otpauth_uri": setup.uri, "qr_svg": setup.qr_svg}


async def _new_codes(call: Call, actor: Actor) -> dict[str, Any]:
    if not (await call.gate.factors(actor.subject)).primary_count:
        raise PrimaryFactorRequired()
    return {"recovery_codes": await call.gate.recovery.generate(actor.subject)}


#: The set-ups that are not a challenge: what a factor's start without a code hands over
#: (an app's secret, a sheet of backup codes), by the kind of factor the core registered.
_SETUPS: tuple[tuple[type, Callable[[Call, Actor], Awaitable[dict[str, Any]]]], ...] = (
    (AuthenticatorFactor, _app_setup),
    (RecoveryCodeFactor, _new_codes),
)


async def _enroll(call: Call) -> dict[str, Any]:
    """Add a factor through the core's factor model: without ``code`` start it for
    ``enroll`` (an SMS to ``phone``) or hand over its set-up (an app's secret, recovery
    codes); with ``code`` prove it (``gate.verify(..., purpose="enroll")``)."""
    actor, gate = call.who(), call.gate
    await call.may_change(actor)  # starting and finishing a set-up alike
    name, code = call.factor("factor", ""), call.text("code")
    factor = gate.registry.get(name)
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
    setup = next((make for kind, make in _SETUPS if isinstance(factor, kind)), None)
    if setup is not None:
        return await setup(call, actor)
    challenge = await gate.start(
        actor.subject,
        name,
        purpose="enroll",
        client_ip=client_ip(call.request),
        locale=locale_of(call.request),
        destination=call.text("phone"),
    )
    if challenge is not None:
        call.data.extra["enroll_id"] = challenge.id
    return {"challenge": call.challenge(challenge) if challenge else None}


async def enroll(request: HttpRequest) -> HttpResponseBase:
    """``{"factor": "sms", "phone"}`` then ``{"factor": "sms", "code"}``; ``{"factor": "totp"}``
    then ``{"factor": "totp", "code"}``; ``{"factor": "recovery"}``."""
    return await _run(request, _enroll)
