"""The JSON API for single-page and mobile apps: ``status``, ``start``, ``resend``, ``check``,
``enroll`` (in ``api_enroll.py``). Async views on the async verifier; they work under ASGI
and WSGI.

CSRF: these are ordinary session views, each checking CSRF itself (``CsrfViewMiddleware``'s
check, as the pages' ``csrf_protect`` does, whether or not the middleware is installed); send
the token in the ``X-CSRFToken`` header (``status`` sets the ``csrftoken`` cookie). Errors use
the core's one mapping (``error_response``): problem JSON, 429 with ``Retry-After``, 503 on an
outage.
No answer holds an SMS code or a full phone number. Two answers hold a secret on purpose,
once, uncached: the authenticator set-up (``enroll`` totp) and new recovery codes.

Every ``enroll`` call (starting or confirming a set-up, new recovery codes) and every resend of
a code for a number being added is a change of factors: it needs a second factor passed within
``step_up_max_age`` (or a user with no factor yet), whatever the body holds.

``check`` of a sign-in's second step with ``"remember_device": true`` (and
``OTPGATE_REMEMBER_DEVICE`` on) sets the remembered device's cookie, as the page's box does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.middleware.csrf import CsrfViewMiddleware, get_token

from otpgate.core.aio import AsyncVerifier
from otpgate.core.bodies import parse_json_object, too_large
from otpgate.core.challenge import Challenge
from otpgate.core.errors import (
    LoginRequired,
    MalformedInput,
    OtpgateError,
)
from otpgate.core.factors.selection import has_factor
from otpgate.core.web import challenge_view, manage_error

from .. import devices, policy, runtime
from ..errors import problem
from ..session import (
    PENDING,
    VERIFIED,
    Actor,
    SessionData,
    actor_of,
    client_ip,
    complete,
    locale_of,
    next_url,
    signed_in,
)


class Call:
    """One API request: the verifier, the session's state and who it acts for."""

    def __init__(self, request: HttpRequest, body: dict[str, Any]) -> None:
        self.request = request
        self.body = body
        self.gate: AsyncVerifier = runtime.get_async_verifier()
        #: A remembered device's token, for the answer's cookie (``remember_device``).
        self.device_token: str | None = None

    def load(self) -> None:
        """Load the session and the user (synchronous: database sessions, auth backends)."""
        settings = runtime.settings()
        self.data = SessionData(self.request.session)
        self.actor = actor_of(
            self.request, self.data, self.gate.clock(), settings.login_step_timeout
        )

    def text(self, key: str, default: str = "") -> str:
        value = self.body.get(key, default)
        if not isinstance(value, str):
            raise MalformedInput(f"'{key}' must be a string.")
        return value

    def who(self) -> Actor:
        if self.actor is None:
            raise LoginRequired()
        return self.actor

    async def may_change(self, actor: Actor) -> None:
        """Raise what this session lacks to change ``actor``'s factors (the core decides)."""
        if actor.user is None:
            raise LoginRequired()
        missing = manage_error(
            self.data.state,
            actor.subject,
            self.gate.clock(),
            operation="change",
            step_up_max_age=self.gate.settings.step_up_max_age,
            has_factor=await policy.ahas_factor(actor.subject),
        )
        if missing is not None:
            raise missing

    def factor(self, key: str, default: str) -> str:
        """The factor named in the body under ``key`` (else ``default``): MalformedInput if
        no factor of that name is registered."""
        name = self.text(key, "") or default
        if name not in self.gate.registry:
            choices = ", ".join(self.gate.registry.names())
            raise MalformedInput(f"'{key}' is one of {choices}.")
        return name

    def challenge(self, challenge: Challenge) -> dict[str, Any]:
        return challenge_view(challenge, self.gate.clock())


def _parse(request: HttpRequest) -> dict[str, Any]:
    """The POSTed JSON object, by the core's one bounded parser (MalformedInput else)."""
    if request.method != "POST":
        return {}
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isascii() and declared.isdigit() and too_large(int(declared)):
        raise MalformedInput("The request body is too large.")
    return parse_json_object(request.body)


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


def _no_view(_request: HttpRequest) -> HttpResponse:
    return HttpResponse()  # pragma: no cover  (never called: the CSRF check only)


def _csrf_refusal(request: HttpRequest) -> HttpResponseBase | None:
    """The 403 of a request without this session's CSRF token, or None (what ``csrf_protect``
    does; not applied as a decorator: before Django 5.0 it cannot wrap an async view)."""
    middleware = CsrfViewMiddleware(_no_view)
    middleware.process_request(request)
    return middleware.process_view(request, _no_view, (), {})


async def _run(request: HttpRequest, handler: Handler, method: str = "POST") -> HttpResponseBase:
    if request.method != method:
        return HttpResponseNotAllowed([method])
    refused = await sync_to_async(_csrf_refusal)(request)  # CSRF_USE_SESSIONS reads the session
    if refused is not None:
        return refused
    call: Call | None = None
    try:
        call = Call(request, _parse(request))
        await sync_to_async(call.load)()
        result = await handler(call)
        response: HttpResponse = JsonResponse(result)
        if call.device_token:
            devices.set_cookie(request, response, call.device_token, call.gate.devices.days)
    except OtpgateError as error:
        response = problem(error, request)
    if call is not None and hasattr(call, "data"):
        await sync_to_async(call.data.save)()
    await runtime.flush_events()
    response["Cache-Control"] = "no-store"
    return response


async def _status(call: Call) -> dict[str, Any]:
    get_token(call.request)  # sets the CSRF cookie for the SPA
    actor, gate = call.actor, call.gate
    result: dict[str, Any] = {
        "authenticated": bool(actor and actor.mode != PENDING),
        "state": actor.mode if actor else "anonymous",
        "verified": bool(actor and actor.mode == VERIFIED),
        "fresh": False,
        "step_up_max_age": gate.settings.step_up_max_age,
        "methods": [],
        "factors": [],
        "challenge": None,
        "enrollment_required": False,
    }
    if actor is None:
        return result
    factors = await gate.factors(actor.subject)
    options = await gate.offer(actor.subject, actor.purpose)
    result["methods"] = [option.name for option in options]  # the preferred one first
    result["factors"] = [option.as_dict() for option in options]
    result["masked_phones"] = list(factors.masked_phones)
    if actor.mode == VERIFIED:
        state = call.data.state
        result["fresh"] = state.is_fresh(actor.subject, gate.clock(), gate.settings.step_up_max_age)
        result["verified_at"] = state.verified_at
        result["totp"] = factors.totp
        result["recovery_codes_left"] = factors.recovery_codes_left
        result["passkeys"] = list(factors.passkeys)
    if actor.user is not None and not has_factor(gate.registry, factors):
        result["enrollment_required"] = await policy.ais_required(
            actor.user, runtime.options().required
        )
    if call.data.state.challenge_id:
        with contextlib.suppress(OtpgateError):
            result["challenge"] = call.challenge(
                await gate.get(call.data.state.challenge_id, subject=actor.subject)
            )
    return result


async def _start(call: Call) -> dict[str, Any]:
    actor, gate = call.who(), call.gate
    options = await gate.offer(actor.subject, actor.purpose)
    sending = next((option.name for option in options if option.sends), "")
    factor = call.factor("method", sending)  # by default the factor that sends (SMS)
    try:
        challenge = await gate.start(
            actor.subject,
            factor,
            purpose=actor.purpose,
            client_ip=client_ip(call.request),
            locale=locale_of(call.request),
        )
    except OtpgateError as error:
        call.data.state.challenge_id = getattr(error, "challenge_id", "") or ""
        raise
    call.data.state.pending_method = factor
    if challenge is not None:
        call.data.state.challenge_id = challenge.id
    return {"factor": factor, "challenge": call.challenge(challenge) if challenge else None}


async def _resend(call: Call) -> dict[str, Any]:
    actor = call.who()
    enroll = call.text("purpose", "") == "enroll"
    challenge_id = call.data.text("enroll_id") if enroll else call.data.state.challenge_id
    if enroll:
        await call.may_change(actor)
    challenge = await call.gate.resend(challenge_id, client_ip=client_ip(call.request))
    return {"challenge": call.challenge(challenge)}


async def _check(call: Call) -> dict[str, Any]:
    actor, gate = call.who(), call.gate
    preferred = call.data.state.pending_method
    if not preferred and not call.text("method", ""):  # the offer only to name a default
        options = await gate.offer(actor.subject, actor.purpose)
        preferred = options[0].name if options else ""
    factor, code = call.factor("method", preferred), call.text("code")
    verification = await gate.verify(
        actor.subject,
        factor,
        code,
        purpose=actor.purpose,
        challenge_id=call.data.state.challenge_id or None,
        may_change_factors=False,
    )
    target = next_url(call.request, call.text("next", "") or call.data.state.pending_next)
    done = await sync_to_async(complete)(call.request, call.data, actor, verification, target)
    if done is None:
        raise LoginRequired()
    target = done.get("Location") or target  # a hand-off (allauth) chose where to go
    ticked = call.body.get("remember_device", False)
    if devices.wants_remembering(call.request, gate, actor.purpose, ticked):
        user = signed_in(call.request, actor)
        call.device_token = await devices.aremember(call.request, gate, user)
    return {"verified": True, "factor": verification.factor, "next": target}


async def status(request: HttpRequest) -> HttpResponseBase:
    """Where this session stands: anonymous, pending, unverified or verified; the factors
    offered for its next step (``methods``: names, preferred first; ``factors``: details)."""
    return await _run(request, _status, "GET")


async def start(request: HttpRequest) -> HttpResponseBase:
    """Start a factor for the second step or step-up: ``{"method": name}`` (default: the
    offered factor that sends, SMS). ``challenge`` is null for a factor that sends nothing."""
    return await _run(request, _start)


async def resend(request: HttpRequest) -> HttpResponseBase:
    """Send the same code again (``{"purpose": "enroll"}`` for a number being added)."""
    return await _run(request, _resend)


async def check(request: HttpRequest) -> HttpResponseBase:
    """``{"method": name, "code": "..."}``: pass the second step with any factor the core
    offers (``status``'s ``methods``); without ``method``, the one started or preferred."""
    return await _run(request, _check)
