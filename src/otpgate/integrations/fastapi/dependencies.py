"""The step-up and verified-transaction dependencies (made by ``OtpGate.require_*``)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Header, Request
from starlette.exceptions import HTTPException
from starlette.routing import NoMatchFound

from otpgate.core.answers import VerifiedTransaction as VerifiedTransaction
from otpgate.core.answers import which_code
from otpgate.core.challenge import Verification
from otpgate.core.confirmations import (
    AsyncConfirmations,
    PendingConfirmation,
    require_state_changing,
    split_token,
)
from otpgate.core.errors import (
    FactorSetupRequired,
    FreshOtpRequired,
    LoginRequired,
    MalformedInput,
    OtpgateError,
)
from otpgate.core.executions import response_outcome

from .problems import TransactionChallenged, TransactionSetupRequired, problem_responses
from .step_up import STEP_UP_HEADER

if TYPE_CHECKING:
    from .gate import OtpGate

#: Request headers that carry a transaction's confirmation.
CHALLENGE_HEADER = "OTP-Challenge"
CODE_HEADER = "OTP-Code"
#: Request header choosing the factor a transaction is confirmed with (on a request without a code).
FACTOR_HEADER = "OTP-Factor"

#: FastAPI >= 0.121 can close a dependency right after the handler returns.
_SCOPED = "scope" in inspect.signature(Depends).parameters

STEP_UP_RESPONSES = problem_responses(
    401,
    503,
    descriptions={
        401: "`login_required` (no authenticated subject), or `fresh_otp_required`: a recent "
        'second factor is required (RFC 9470: `WWW-Authenticate: Bearer error="insufficient_'
        'user_authentication", max_age="…"`; `links` names the routes that offer, start and '
        "pass a factor, or add one). Send the request again with the `OTP-Step-Up` request "
        "header set to the `OTP-Step-Up` header of the answer that passed the second factor: "
        "it spares the server a store round trip (optional)."
    },
)
TRANSACTION_RESPONSES = problem_responses(400, 401, 403, 409, 410, 423, 429, 502, 503)


def route_action(request: Request) -> str:
    """The action a transaction on this request is: its method and route path template
    (``POST /payments/{payment_id}/execute``), so each route confirms only its own codes. In
    an app mounted in another, the path the mount adds comes first (``POST /savings/pay``),
    so two mounted apps' routes of one template stay apart; a proxy's ``root_path`` does not."""
    scope = request.scope
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        endpoint = scope.get("endpoint")
        name = getattr(endpoint, "__qualname__", None)
        path = f"{endpoint.__module__}.{name}" if name else request.url.path
    else:
        path = _mounted_at(scope) + path
    return f"{request.method} {path}"


def _mounted_at(scope: Mapping[str, Any]) -> str:
    """The path of the mounts between the application and this route ("" for none):
    Starlette's ``Mount`` adds it to ``root_path`` and keeps the first in ``app_root_path``."""
    root_path, app_root_path = scope.get("root_path", ""), scope.get("app_root_path")
    if not isinstance(root_path, str) or not isinstance(app_root_path, str):
        return ""
    return root_path[len(app_root_path) :] if root_path.startswith(app_root_path) else ""


class StepUpCheck:
    """The one decision of ``gate.require_second_factor(max_age)`` (the dependency) and
    ``@gate.otp_required(max_age)`` (the decorator): this subject's token/session passed a
    second factor within ``max_age`` seconds, or the error saying what is missing.

    Each FastAPI dependency and each declared header costs ~10 µs per request, more than
    the check itself. So the step-up token and, with the default ``session_key`` (the
    ``Authorization`` header), the session key are read from the request's headers; only
    ``current_subject`` (which an app may override) and another ``session_key`` are
    dependencies. A token that opened once is not opened again (``gate.step_up_tokens``).
    Making one raises ``gate.state_ttl`` to ``max_age`` (step-up state is kept that long)."""

    __slots__ = ("_default_key", "_gate", "max_age", "reads_authorization")

    def __init__(self, gate: OtpGate, max_age: int) -> None:
        gate.state_ttl = max(gate.state_ttl, max_age)
        self._gate = gate
        self.max_age = max_age
        #: The session key is the ``Authorization`` header, read by :meth:`on_request`.
        self.reads_authorization = reads_authorization(gate)
        self._default_key = gate.session_key

    async def decide(self, subject: str, session_key: str, token: str | None) -> Verification:
        """The step-up token (no store round trip) if it opens for this subject and session
        and is fresh enough for this route; else the store's state (one round trip)."""
        gate, max_age = self._gate, self.max_age
        now = gate.clock()
        carried = gate.step_up_tokens.read(gate.verifier.keyring, token, session_key, subject, now)
        if carried is not None and 0 <= now - carried.verified_at <= max_age:
            return carried
        state = await gate.load_state(session_key)
        if not state.is_fresh(subject, now, max_age):
            raise FreshOtpRequired(max_age=max_age)
        return Verification(subject, "action", state.verified_factor, state.verified_at)

    async def on_request(self, request: Request, subject: str) -> Verification:
        """:meth:`decide` with the default session key (``reads_authorization``)."""
        session_key, token = _session_and_token(request, self._default_key)
        return await self.decide(subject, session_key, token)

    async def with_session(self, request: Request, subject: str, session_key: str) -> Verification:
        """:meth:`decide` with the app's own ``session_key`` (its dependency's answer)."""
        return await self.decide(subject, session_key, request.headers.get(STEP_UP_HEADER))


def second_factor(gate: OtpGate, max_age: int) -> Callable[..., Awaitable[Verification]]:
    """``gate.require_second_factor(max_age)``: :class:`StepUpCheck` as one FastAPI
    dependency (``current_subject`` below it, and the app's own ``session_key`` if any)."""
    check = StepUpCheck(gate, max_age)
    if not check.reads_authorization:
        with_session = check.with_session

        async def require_fresh_session(
            request: Request,
            subject: str = Depends(gate.current_subject),
            session_key: str = Depends(gate.session_key),
        ) -> Verification:
            return await with_session(request, subject, session_key)

        return require_fresh_session

    on_request = check.on_request

    async def require_second_factor(
        request: Request, subject: str = Depends(gate.current_subject)
    ) -> Verification:
        return await on_request(request, subject)

    return require_second_factor


_AUTHORIZATION, _STEP_UP = b"authorization", STEP_UP_HEADER.lower().encode()


def reads_authorization(gate: OtpGate) -> bool:
    """True if ``gate.session_key`` is the default one (the ``Authorization`` header): a
    hot route then reads it from the request itself, which spares FastAPI a dependency."""
    from .gate import OtpGate  # the module imports this one

    return gate.session_key is OtpGate._authorization


def _session_and_token(request: Request, default: Callable[..., Any]) -> tuple[str, str | None]:
    """The session key as the default ``session_key`` reads it (``Authorization``, not
    blank, else LoginRequired) and the ``OTP-Step-Up`` header, the first of each as
    ``request.headers.get`` reads them, in one pass over the ASGI headers. ``default``
    (``gate.session_key``) may not be overridden in ``dependency_overrides``: the routes
    would use the override and this not."""
    overrides = getattr(request.app, "dependency_overrides", None)
    if overrides and default in overrides:
        raise RuntimeError(
            "gate.session_key cannot be overridden in app.dependency_overrides: "
            "pass session_key= to OtpGate"
        )
    session_key, token = None, None
    for name, value in request.scope["headers"]:
        if name == _AUTHORIZATION:
            if session_key is None:
                session_key = value.decode("latin-1")
        elif name == _STEP_UP and token is None:
            token = value.decode("latin-1")
    if not session_key or not session_key.strip():
        raise LoginRequired()
    return session_key, token


def session_key_of(request: Request, default: Callable[..., Any]) -> str:
    """What the default ``session_key`` dependency answers, read here (see
    :func:`reads_authorization`)."""
    return _session_and_token(request, default)[0]


def transaction(
    gate: OtpGate,
    details: Callable[..., Any],
    summary: Callable[[Mapping[str, Any]], str] | None,
    replay_window: int,
    action: str | None = None,
) -> Callable[..., Awaitable[VerifiedTransaction]]:
    if replay_window < 1:
        raise ValueError("replay_window must be at least one second")

    async def executing(
        request: Request,
        context: Any = Depends(details),  # noqa: B008
        subject: str = Depends(gate.current_subject),
        client_ip: str | None = Depends(gate.client_ip),
        token: str | None = Header(
            None,
            alias=CHALLENGE_HEADER,
            description="The confirmation from the `confirmation_required` answer (its "
            "`OTP-Challenge` header or `challenge_id`), with `OTP-Code`.",
        ),
        code: str | None = Header(
            None,
            alias=CODE_HEADER,
            description="The code of the answer's `factor` (the SMS, or the authenticator "
            "app), with `OTP-Challenge`.",
        ),
        factor: str | None = Header(
            None,
            alias=FACTOR_HEADER,
            description="On a request without a code: the factor to confirm with, one of the "
            "answer's `factors` (default: the subject's preferred one).",
        ),
    ) -> AsyncIterator[VerifiedTransaction]:
        if not isinstance(context, Mapping):
            raise TypeError("a require_transaction details dependency must return a mapping")
        require_state_changing(request.method)  # a GET route never sends a code (405)
        confirmations = AsyncConfirmations(gate.verifier, replay_window)
        bound = action if action is not None else route_action(request)
        if token is None and code is None:
            text = summary(context) if summary else None
            opened = confirmations.open(
                subject,
                bound,
                context,
                method=request.method,
                factor=factor,
                summary=text,
                client_ip=client_ip,
                locale=gate.locale(request),
            )
            raise await _answer(gate, request, opened, text)
        if token is None or code is None:
            raise MalformedInput(f"Send both {CHALLENGE_HEADER} and {CODE_HEADER}.")
        verification = await confirmations.confirm_code(subject, bound, context, token, code)
        key, reference = confirmations.key(subject, bound, context), split_token(token)[1]
        confirmed = VerifiedTransaction(subject, dict(context), verification, bound)
        try:
            yield confirmed
        except BaseException as error:
            # An HTTPException below 500 is the handler's answer (as a 4xx response is in
            # Django and Flask): executed. Anything else failed: the same code may retry it.
            status = error.status_code if isinstance(error, HTTPException) else None
            outcome, failed = response_outcome(status, confirmed.outcome)
            await confirmations.settle(key, reference, outcome, failed=failed)
            raise
        await confirmations.settle(key, reference, confirmed.outcome)

    # Settle as soon as the handler returns (before the response is sent) where FastAPI can.
    claim = Depends(executing, scope="function") if _SCOPED else Depends(executing)

    async def verified_transaction(confirmed: VerifiedTransaction = claim) -> VerifiedTransaction:
        return confirmed

    return verified_transaction


async def _answer(
    gate: OtpGate,
    request: Request,
    opened: Awaitable[PendingConfirmation],
    summary: str | None,
) -> OtpgateError:
    """What a request without a code answers once the transaction is opened: 401
    ``confirmation_required`` with the token, the factor to use and the ``summary`` the
    user approves; 409
    ``factor_setup_required`` naming where to add a factor when the subject has none that
    may confirm it."""
    try:
        pending = await opened
    except FactorSetupRequired as error:
        return TransactionSetupRequired(error, _factors_path(gate, request))
    return TransactionChallenged(pending, gate.clock(), which_code(pending), summary)


def _factors_path(gate: OtpGate, request: Request) -> str:
    """The path of ``GET …/factors/offer?purpose=transaction``: it lists what can be added."""
    root = str(request.scope.get("root_path", ""))
    try:
        path = root + str(request.app.url_path_for("offer_factors"))
    except NoMatchFound:  # the gate's router is not in this app
        path = root + gate.prefix + "/factors/offer"
    return path + "?purpose=transaction"
