"""otpgate's API: SMS challenges, authenticator app, recovery codes, passkeys, factors.

Every route acts for ``gate.current_subject`` only. A passed check marks the caller's
token/session (``gate.session_key``) as verified, which is what step-up asks for. Every change
of factors (starting or confirming a set-up, checking or resending a code for a number being
added, new recovery codes, removing) needs a fresh second factor once the subject has one; the
core decides (``manage_error``), from the token's state and the operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.routing import Match
from starlette.types import Scope

from .device_routes import add_device_routes
from .factor_routes import add_factor_routes
from .guards import guard_factors
from .models import (
    ChallengeOut,
    CheckCode,
    CheckRecoveryCode,
    EnrollTotp,
    FactorsOut,
    RecoveryCodesOut,
    StartChallenge,
    TotpEnrollmentOut,
    VerificationOut,
)
from .passkey_routes import add_passkey_routes
from .problems import ProblemRoute, problem_responses, share_allow
from .recovery_text import (
    RECOVERY_ACCOUNT,
    RECOVERY_TEXT_DOC,
    RECOVERY_TEXT_RESPONSE,
    recovery_text_response,
    wants_text,
)
from .step_up import STEP_UP_HEADER

if TYPE_CHECKING:
    from .gate import OtpGate

#: What a request without a body means on a route whose every body field is optional.
NO_ENROLL_TOTP = EnrollTotp.model_validate({})
NO_START_CHALLENGE = StartChallenge.model_validate({})


def _challenge_id() -> Any:
    return Path(max_length=128, description="The challenge id.")


class GateRouter(APIRouter):
    """The gate's router, cheap to pass over: a request whose path does not hold its prefix
    is refused without trying its routes (FastAPI >= 0.12x matches an included router as a
    whole; older versions copy its routes into the app, which ``GateRoute`` refuses alike),
    so installing otpgate before the app's routes costs them nothing."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path")
        if isinstance(path, str) and self.prefix not in path:
            return Match.NONE, {}
        matches: Any = getattr(super(), "matches", None)
        if matches is None:  # pragma: no cover - a Starlette router is no route
            return Match.NONE, {}
        result: tuple[Match, Scope] = matches(scope)
        return result


def build_router(gate: OtpGate) -> APIRouter:
    """The router for ``gate`` (use ``gate.router``, which builds it once)."""

    class GateRoute(ProblemRoute):
        settings = gate.settings  # its framing headers
        links_prefix = gate.prefix  # problems saying a factor is missing link here

        def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(path, *args, **kwargs)
            #: The literal start of the path template: every path this route matches holds it.
            self.literal = path.split("{", 1)[0]

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            # The app's own routes, wherever gate.install put these: refused on a substring
            # test (the route path Starlette matches ends the scope's path), no regex.
            path = scope.get("path")
            if isinstance(path, str) and self.literal not in path:
                return Match.NONE, {}
            return super().matches(scope)

    router = GateRouter(prefix=gate.prefix, tags=gate.tags, route_class=GateRoute)
    subject_dep = Depends(gate.current_subject)
    session_dep = Depends(gate.session_key)
    ip_dep = Depends(gate.client_ip)
    # First: POST /verify is the route a request is most likely for (the routes are tried
    # in order; FastAPI's per-route matching cost adds up over the ones before it).
    add_factor_routes(router, gate)
    verify_path = f"{gate.prefix}/verify"
    router.routes.sort(key=lambda route: getattr(route, "path", None) != verify_path)

    async def guard_change(subject: str, session_key: str) -> None:
        """Any change of factors needs a fresh second factor, once there is one."""
        await guard_factors(gate, subject, session_key, "change")

    @router.get(
        "/factors",
        response_model=FactorsOut,
        summary="List the subject's second factors",
        responses=problem_responses(401, 503),
    )
    async def list_factors(subject: str = subject_dep) -> FactorsOut:
        factors = await gate.verifier.factors(subject)
        return FactorsOut.of(factors, await gate.verifier.preferred_factor(subject))

    @router.post(
        "/challenges",
        status_code=201,
        response_model=ChallengeOut,
        summary="Send a code by SMS",
        responses=problem_responses(400, 401, 409, 422, 423, 429, 502, 503),
    )
    async def start_challenge(
        request: Request,
        body: StartChallenge = NO_START_CHALLENGE,
        subject: str = subject_dep,
        session_key: str = session_dep,
        client_ip: str | None = ip_dep,
    ) -> ChallengeOut:
        if body.purpose == "enroll":
            await guard_change(subject, session_key)
        challenge = await gate.verifier.start_sms(
            subject,
            body.phone,
            purpose=body.purpose,
            client_ip=client_ip,
            locale=gate.locale(request),
        )
        return ChallengeOut.of(challenge, gate.clock())

    @router.get(
        "/challenges/{challenge_id}",
        response_model=ChallengeOut,
        summary="A challenge's state",
        responses=problem_responses(400, 401, 410, 503),
    )
    async def get_challenge(
        challenge_id: str = _challenge_id(), subject: str = subject_dep
    ) -> ChallengeOut:
        challenge = await gate.verifier.get(challenge_id, subject=subject)
        return ChallengeOut.of(challenge, gate.clock())

    @router.post(
        "/challenges/{challenge_id}/resend",
        response_model=ChallengeOut,
        summary="Send the same code again",
        responses=problem_responses(400, 401, 410, 429, 502, 503),
    )
    async def resend_challenge(
        challenge_id: str = _challenge_id(),
        subject: str = subject_dep,
        session_key: str = session_dep,
        client_ip: str | None = ip_dep,
    ) -> ChallengeOut:
        current = await gate.verifier.get(challenge_id, subject=subject)
        if current.purpose == "enroll":
            await guard_change(subject, session_key)
        challenge = await gate.verifier.resend(challenge_id, client_ip=client_ip)
        return ChallengeOut.of(challenge, gate.clock())

    @router.post(
        "/challenges/{challenge_id}/check",
        response_model=VerificationOut,
        summary="Check the code from the SMS",
        responses=problem_responses(400, 401, 409, 410, 423, 429, 503),
    )
    async def check_challenge(
        body: CheckCode,
        response: Response,
        challenge_id: str = _challenge_id(),
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> VerificationOut:
        state = await gate.load_state(session_key)
        fresh = state.is_fresh(subject, gate.clock(), gate.settings.step_up_max_age)
        # An enroll challenge adds its number only for a fresh token (or a first factor): the
        # core refuses it otherwise, so this generic check never adds a phone on its own. Any
        # purpose is accepted here (this route predates POST /verify): one store round trip.
        verification = await gate.verifier.check(
            challenge_id, body.code, subject=subject, may_change_factors=fresh
        )
        response.headers[STEP_UP_HEADER] = await gate.passed(session_key, verification, state)
        return VerificationOut.of(verification)

    @router.post(
        "/challenges/{challenge_id}/cancel",
        status_code=204,
        response_class=Response,
        summary="Cancel a challenge",
        responses=problem_responses(400, 401, 410, 503),
    )
    async def cancel_challenge(
        challenge_id: str = _challenge_id(), subject: str = subject_dep
    ) -> Response:
        await gate.verifier.get(challenge_id, subject=subject)
        await gate.verifier.cancel(challenge_id)
        return Response(status_code=204)

    @router.post(
        "/totp/enrollment",
        status_code=201,
        response_model=TotpEnrollmentOut,
        summary="Set up an authenticator app (secret shown once)",
        responses=problem_responses(400, 401, 409, 503),
    )
    async def enroll_totp(
        body: EnrollTotp = NO_ENROLL_TOTP,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> TotpEnrollmentOut:
        await guard_change(subject, session_key)
        account = await gate.label(subject, body.account)
        enrollment = await gate.verifier.totp.enroll(subject, account, replace=body.replace)
        return TotpEnrollmentOut.of(enrollment)

    @router.post(
        "/totp/confirm",
        response_model=VerificationOut,
        summary="Activate the authenticator app with a code from it",
        responses=problem_responses(400, 401, 409, 423, 429, 503),
    )
    async def confirm_totp(
        body: CheckCode,
        response: Response,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> VerificationOut:
        await guard_change(subject, session_key)  # finishing a set-up, like starting it
        verification = await gate.verifier.totp.confirm(subject, body.code)
        response.headers[STEP_UP_HEADER] = await gate.passed(session_key, verification)
        return VerificationOut.of(verification)

    @router.post(
        "/totp/check",
        response_model=VerificationOut,
        summary="Pass the second factor with the authenticator app",
        responses=problem_responses(400, 401, 409, 423, 429, 503),
    )
    async def check_totp(
        body: CheckCode,
        response: Response,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> VerificationOut:
        verification, response.headers[STEP_UP_HEADER] = await gate.verify_and_pass(
            session_key, subject, "totp", body.code, purpose="action"
        )
        return VerificationOut.of(verification)

    @router.delete(
        "/totp",
        status_code=204,
        response_class=Response,
        summary="Remove the authenticator app",
        responses=problem_responses(401, 503),
    )
    async def remove_totp(subject: str = subject_dep, session_key: str = session_dep) -> Response:
        await guard_change(subject, session_key)
        await gate.verifier.totp.remove(subject)
        return Response(status_code=204)

    @router.post(
        "/recovery-codes",
        status_code=201,
        response_model=RecoveryCodesOut,
        summary="Generate recovery codes (shown once; older codes stop working)",
        description=RECOVERY_TEXT_DOC,
        responses={**problem_responses(401, 503), **RECOVERY_TEXT_RESPONSE},
    )
    async def generate_recovery_codes(
        request: Request,
        subject: str = subject_dep,
        session_key: str = session_dep,
        account: str | None = RECOVERY_ACCOUNT,
    ) -> RecoveryCodesOut | Response:
        await guard_change(subject, session_key)
        codes = await gate.verifier.recovery.generate(subject)
        if wants_text(request.headers.get("accept")):
            return recovery_text_response(gate, codes, account or subject, request)
        return RecoveryCodesOut(codes=codes)

    @router.post(
        "/recovery-codes/check",
        response_model=VerificationOut,
        summary="Pass the second factor with a recovery code (uses it up)",
        responses=problem_responses(400, 401, 423, 429, 503),
    )
    async def check_recovery_code(
        body: CheckRecoveryCode,
        response: Response,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> VerificationOut:
        verification, response.headers[STEP_UP_HEADER] = await gate.verify_and_pass(
            session_key, subject, "recovery", body.code, purpose="action"
        )
        return VerificationOut.of(verification)

    add_device_routes(router, gate)
    add_passkey_routes(router, gate)
    share_allow(GateRoute, router.routes)
    return router
