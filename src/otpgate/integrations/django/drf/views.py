"""The endpoints a DRF client passes a step-up through (``drf/urls.py``): which factors it
may use, start one (an SMS is sent), verify a code. A session client's session, or a token
client's token, then counts as having passed (see ``state.py``); ``SecondFactorPassed`` and
``FreshSecondFactor`` let it through.

- ``GET factors/`` (``?purpose=action`` by default, or ``enroll``: what can be added):
  ``{"factors": [...], "verified": bool, "fresh": bool, "step_up_max_age": s}``;
- ``POST start/`` ``{"factor": "sms"}`` (default: the offered factor that sends):
  ``{"factor": ..., "challenge": {...} | null}`` (``challenge.id`` goes back to ``verify``);
- ``POST verify/`` ``{"factor": ..., "code": ..., "challenge_id": ...}``:
  ``{"verified": true, "factor": ..., "verified_at": ...}``.

Errors are otpgate's problem details, whatever the project's exception handler. Every
answer is ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from otpgate.core.errors import MalformedInput
from otpgate.core.web import challenge_view

from .. import runtime
from ..session import client_ip, locale_of
from . import state
from .permissions import OtpgateExceptionHandlerMixin

PURPOSES = ("action", "enroll")


def _text(data: Any, key: str, default: str = "") -> str:
    value = data.get(key, default) if hasattr(data, "get") else default
    if not isinstance(value, str):
        raise MalformedInput(f"'{key}' must be a string.")
    return value


class _StepUpView(OtpgateExceptionHandlerMixin, APIView):
    permission_classes = (IsAuthenticated,)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class FactorsView(_StepUpView):
    """The factors this user may pass a step-up with (preferred first), and where this
    session or token stands."""

    def get(self, request: Request) -> Response:
        purpose = request.query_params.get("purpose", "action")
        if purpose not in PURPOSES:
            raise MalformedInput("'purpose' is action or enroll.")
        gate, subject = runtime.get_verifier(), state.subject_of(request)
        current = state.load(request)
        max_age = gate.settings.step_up_max_age
        return Response(
            {
                "factors": [option.as_dict() for option in gate.offer(subject, purpose)],
                "verified": current.has_passed(subject),
                "fresh": current.is_fresh(subject, gate.clock(), max_age),
                "step_up_max_age": max_age,
            }
        )


class StartView(_StepUpView):
    """Start a factor for a step-up: an SMS is sent; an app sends nothing."""

    def post(self, request: Request) -> Response:
        gate, subject = runtime.get_verifier(), state.subject_of(request)
        options = gate.offer(subject, "action")
        sending = next((option.name for option in options if option.sends), "")
        factor = _text(request.data, "factor") or sending
        if factor not in gate.registry:
            raise MalformedInput("'factor' is one of " + ", ".join(gate.registry.names()) + ".")
        challenge = gate.start(
            subject,
            factor,
            purpose="action",
            client_ip=client_ip(request._request),
            locale=locale_of(request._request),
        )
        view = challenge_view(challenge, gate.clock()) if challenge is not None else None
        return Response({"factor": factor, "challenge": view})


class VerifyView(_StepUpView):
    """Pass a step-up: ``factor`` (default: the preferred one), ``code`` and, for a factor
    that sent one, ``challenge_id``. The session or token is then verified."""

    def post(self, request: Request) -> Response:
        gate, subject = runtime.get_verifier(), state.subject_of(request)
        factor = _text(request.data, "factor")
        if not factor:
            options = gate.offer(subject, "action")
            factor = options[0].name if options else ""
        if factor not in gate.registry:
            raise MalformedInput("'factor' is one of " + ", ".join(gate.registry.names()) + ".")
        verification = gate.verify(
            subject,
            factor,
            _text(request.data, "code"),
            purpose="action",
            challenge_id=_text(request.data, "challenge_id") or None,
            may_change_factors=False,
        )
        state.record(request, verification)
        return Response(
            {
                "verified": True,
                "factor": verification.factor,
                "verified_at": verification.verified_at,
            }
        )
