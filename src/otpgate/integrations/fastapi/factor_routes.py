"""The API's factor-generic routes: what factors the subject may use, one check for every
factor, and the preferred factor. They name no factor: the core's registry decides (a factor
registered with ``otpgate.core.factors.register_factor`` is offered and checked here as is).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from otpgate.core.errors import MalformedInput

from .dependencies import reads_authorization, session_key_of
from .factor_models import (
    ConfirmFactor,
    FactorOfferOut,
    FactorSetupOut,
    FactorStartOut,
    PreferredFactor,
    PreferredFactorOut,
    SetupFactor,
    StartFactor,
    VerifyFactor,
)
from .guards import guard_factors
from .models import ChallengeOut, VerificationOut, verification_json
from .problems import problem_responses
from .step_up import STEP_UP_HEADER

if TYPE_CHECKING:
    from .gate import OtpGate

OfferPurpose = Literal["login", "action", "transaction", "enroll"]
_PURPOSE = Query("login", description="What the factor is for.")
#: A PUT without a body: no preference (back to the strongest enrolled factor).
NO_PREFERRED_FACTOR = PreferredFactor.model_validate({})


def add_factor_routes(router: APIRouter, gate: OtpGate) -> None:
    """Add ``GET /factors/offer``, ``POST /factors/start``, ``POST /verify``,
    ``POST /factors/setup``, ``POST /factors/confirm`` and ``PUT /factors/preferred`` to
    ``router`` (``GET /factors`` shows the preferred factor)."""
    subject_dep = Depends(gate.current_subject)
    session_dep = Depends(gate.session_key)

    async def guard_view(subject: str, session_key: str) -> None:
        """Seeing or choosing among one's factors needs the second factor passed."""
        await guard_factors(gate, subject, session_key, "view")

    @router.post(
        "/factors/setup",
        status_code=201,
        response_model=FactorSetupOut,
        summary="Start adding a factor: a challenge to answer and/or what to show once",
        responses=problem_responses(400, 401, 403, 409, 422, 423, 429, 502, 503),
    )
    async def setup_factor(
        body: SetupFactor,
        request: Request,
        subject: str = subject_dep,
        session_key: str = session_dep,
        client_ip: str | None = Depends(gate.client_ip),
    ) -> FactorSetupOut:
        await guard_factors(gate, subject, session_key, "change")
        setup = await gate.verifier.setup(
            subject,
            body.factor,
            label=await gate.label(subject, body.label),
            name=body.name,
            destination=body.destination,
            client_ip=client_ip,
            locale=gate.locale(request),
        )
        return FactorSetupOut.of(setup, gate.clock())

    @router.get(
        "/factors/offer",
        response_model=FactorOfferOut,
        summary="The factors the subject may use for a purpose, the preferred one first",
        responses=problem_responses(400, 401, 503),
    )
    async def offer_factors(
        request: Request,
        purpose: OfferPurpose = _PURPOSE,
        subject: str = subject_dep,
    ) -> FactorOfferOut:
        if set(request.query_params) - {"purpose"}:  # like the bodies' extra="forbid"
            raise MalformedInput("Unknown query parameter.")
        options = await gate.verifier.offer(subject, purpose)
        addable = await gate.verifier.offer(subject, "enroll") if not options else []
        return FactorOfferOut.of(purpose, options, addable)

    @router.post(
        "/factors/start",
        response_model=FactorStartOut,
        summary="Start an offered factor (sends its code if it sends one; a passkey: the "
        "browser's options; an app: nothing)",
        responses=problem_responses(400, 401, 403, 409, 429, 502, 503),
    )
    async def start_factor(
        body: StartFactor,
        request: Request,
        subject: str = subject_dep,
        client_ip: str | None = Depends(gate.client_ip),
    ) -> FactorStartOut:
        challenge = await gate.verifier.start(
            subject,
            body.factor,
            purpose=body.purpose,
            client_ip=client_ip,
            locale=gate.locale(request),
        )
        view = ChallengeOut.of(challenge, gate.clock()) if challenge is not None else None
        return FactorStartOut(factor=body.factor, challenge=view)

    verify_route = router.post(
        "/verify",
        response_model=VerificationOut,
        summary="Pass the second factor with any offered factor",
        responses=problem_responses(400, 401, 403, 409, 410, 423, 429, 503),
    )

    async def verify(
        body: VerifyFactor, request: Request, subject: str, session_key: str, client_ip: str | None
    ) -> Response:
        if body.remember_device and body.purpose != "login":
            raise MalformedInput("remember_device is only for purpose login.")
        if body.purpose == "enroll":  # finishing a set-up, like starting it
            await guard_factors(gate, subject, session_key, "change")
        answer = body.code if body.credential is None else json.dumps(body.credential)
        verification, step_up_token = await gate.verify_and_pass(
            session_key,
            subject,
            body.factor,
            answer or "",
            purpose=body.purpose,
            challenge_id=body.challenge_id,
        )
        token = None
        if body.remember_device and gate.verifier.devices.enabled:
            token = await gate.verifier.devices.remember(
                subject,
                user_agent=request.headers.get("user-agent"),
                client_ip=client_ip,
            )
        # Serialized here, once, as FastAPI would send a VerificationOut (no model built).
        return Response(
            verification_json(verification, token),
            media_type="application/json",
            headers={STEP_UP_HEADER: step_up_token},
        )

    if reads_authorization(gate):  # the hot route: one FastAPI dependency less
        default_key = gate.session_key

        async def verify_factor(
            body: VerifyFactor,
            request: Request,
            subject: str = subject_dep,
            client_ip: str | None = Depends(gate.client_ip),
        ) -> Response:
            session_key = session_key_of(request, default_key)
            return await verify(body, request, subject, session_key, client_ip)

    else:

        async def verify_factor(  # type: ignore[misc]  # the same route, with its dependency
            body: VerifyFactor,
            request: Request,
            subject: str = subject_dep,
            session_key: str = session_dep,
            client_ip: str | None = Depends(gate.client_ip),
        ) -> Response:
            return await verify(body, request, subject, session_key, client_ip)

    verify_route(verify_factor)

    @router.post(
        "/factors/confirm",
        response_model=VerificationOut,
        summary="Add the factor being set up with the code it sent",
        responses=problem_responses(400, 401, 403, 409, 410, 423, 429, 503),
    )
    async def confirm_factor(
        body: ConfirmFactor,
        response: Response,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> VerificationOut:
        await guard_factors(gate, subject, session_key, "change")
        verification, response.headers[STEP_UP_HEADER] = await gate.verify_and_pass(
            session_key,
            subject,
            body.factor,
            body.code,
            purpose="enroll",
            challenge_id=body.challenge_id,
            may_change_factors=True,
        )
        return VerificationOut.of(verification)

    @router.put(
        "/factors/preferred",
        response_model=PreferredFactorOut,
        summary="Choose the factor the second step opens on (among the enrolled ones)",
        responses=problem_responses(400, 401, 409, 503),
    )
    async def set_preferred_factor(
        body: PreferredFactor = NO_PREFERRED_FACTOR,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> PreferredFactorOut:
        await guard_view(subject, session_key)  # adds or removes nothing: like viewing
        await gate.verifier.set_preferred_factor(subject, body.factor)
        return PreferredFactorOut(factor=await gate.verifier.preferred_factor(subject))
