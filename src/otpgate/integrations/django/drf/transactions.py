"""``confirm_transaction``: a DRF action that runs only once a code confirmed its details.

    class Transfer(APIView):
        permission_classes = [IsAuthenticated]

        @confirm_transaction(
            lambda request: {"amount": str(request.data.get("amount")), "iban": ...},
            summary=lambda details: f"EUR {details['amount']}",
        )
        def post(self, request):
            confirmed = request.otpgate_transaction  # a VerifiedTransaction
            ...

The first request (no ``OTP-Challenge``/``OTP-Code`` headers) opens the confirmation on the
user's preferred factor that may confirm a transaction (or the one the ``OTP-Factor`` header
names) and answers 401 ``confirmation_required``: the token (``challenge_id``, also the
``OTP-Challenge`` header), ``factor``, ``factors``, ``summary`` and, for an SMS, its
challenge. The client repeats the request with ``OTP-Challenge`` and ``OTP-Code``: the code
must be for exactly these details and this view (``action``: the view's URL name, as in
Django's ``confirm_transaction``), then the action runs, once. Its answer is recorded: a
5xx or an exception leaves the transaction ``failed`` (the same code may retry it), anything
else ``executed`` (repeating it answers 409 ``transaction_executed`` with the outcome, never
a second execution). The same as FastAPI's ``require_transaction``, on the same core
(``Confirmations``), for session and token clients alike. Works on ``APIView`` methods and
``@api_view`` functions (synchronous views, as DRF's are). Only a state-changing method
(POST, PUT, PATCH, DELETE) confirms: a decorated ``get`` answers 405 ``method_not_allowed``
(with ``Allow``), and nothing is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from rest_framework.exceptions import APIException
from rest_framework.request import Request

from otpgate.core.answers import (
    TransactionChallenged,
    TransactionSetupRequired,
    VerifiedTransaction,
    which_code,
)
from otpgate.core.confirmations import Confirmations, require_state_changing, split_token
from otpgate.core.errors import FactorSetupRequired, LoginRequired, MalformedInput, OtpgateError
from otpgate.core.executions import response_outcome

from .. import runtime
from ..confirm_page import action_of
from ..errors import problem
from ..session import client_ip, locale_of
from . import links, state

CHALLENGE_HEADER, CODE_HEADER, FACTOR_HEADER = "OTP-Challenge", "OTP-Code", "OTP-Factor"
F = TypeVar("F", bound=Callable[..., Any])


def _request_of(args: tuple[Any, ...]) -> tuple[Request, int]:
    """The DRF request among a view method's arguments (``self, request`` or ``request``)."""
    for index, value in enumerate(args[:2]):
        if isinstance(value, Request):
            return value, index
    raise TypeError("confirm_transaction decorates a DRF view method or @api_view function")


def confirm_transaction(
    details: Callable[..., Mapping[str, Any]],
    *,
    summary: Callable[[Mapping[str, Any]], str] | None = None,
    action: str | None = None,
    replay_window: int = 86400,
    setup_url: str = "",
) -> Callable[[F], F]:
    """Run the decorated action only with a code confirming ``details(request, *args,
    **kwargs)`` (any mapping: amount, payee, the transaction's id). ``summary(details)`` is
    shown in the SMS (≤ 64 characters). The same details cannot be confirmed again for the
    same action within ``replay_window`` seconds, so include the transaction's id.
    ``setup_url``: where a user with no factor that may confirm can add one (the 409
    ``factor_setup_required`` answer's ``links.factors``; default: the ``factors/`` endpoint
    of ``drf/urls.py`` with ``?purpose=enroll``, else otpgate's factors page)."""
    if replay_window < 1:
        raise ValueError("replay_window must be at least one second")

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request, index = _request_of(args)
            try:
                context = details(request, *args[index + 1 :], **kwargs)
                return _confirmed(request, context, function, args, kwargs)
            except OtpgateError as error:
                return problem(error, request._request)

        def _confirmed(
            request: Request,
            context: Mapping[str, Any],
            function: F,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
        ) -> Any:
            if not isinstance(context, Mapping):
                raise TypeError("confirm_transaction's details must return a mapping")
            require_state_changing(request.method)  # never a code for a GET (405)
            subject = state.subject_of(request)
            if not subject:
                raise LoginRequired()
            gate = runtime.get_verifier()
            confirmations = Confirmations(gate, replay_window)
            bound = action_of(request._request, action)
            token = request.headers.get(CHALLENGE_HEADER)
            code = request.headers.get(CODE_HEADER)
            if token is None and code is None:
                text = summary(context) if summary else None
                try:
                    pending = confirmations.open(
                        subject,
                        bound,
                        context,
                        method=request.method or "",
                        factor=request.headers.get(FACTOR_HEADER) or None,
                        summary=text,
                        client_ip=client_ip(request._request),
                        locale=locale_of(request._request),
                    )
                except FactorSetupRequired as error:
                    raise TransactionSetupRequired(error, setup_url or links.setup_url()) from None
                raise TransactionChallenged(pending, gate.clock(), which_code(pending), text)
            if token is None or code is None:
                raise MalformedInput(f"Send both {CHALLENGE_HEADER} and {CODE_HEADER}.")
            verification = confirmations.confirm_code(subject, bound, context, token, code)
            key, reference = confirmations.key(subject, bound, context), split_token(token)[1]
            confirmed = VerifiedTransaction(subject, dict(context), verification, bound)
            request.otpgate_transaction = confirmed  # type: ignore[attr-defined]
            try:
                response = function(*args, **kwargs)
            except BaseException as error:
                # An APIException below 500 is the view's answer (a 4xx response): executed.
                status = error.status_code if isinstance(error, APIException) else None
                outcome, failed = response_outcome(status, confirmed.outcome)
                confirmations.settle(key, reference, outcome, failed=failed)
                raise
            outcome, failed = response_outcome(response.status_code, confirmed.outcome)
            confirmations.settle(key, reference, outcome, failed=failed)
            return response

        return cast(F, wrapper)

    return decorate
