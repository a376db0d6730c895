"""``OtpGate``: one object that owns the verifier, its lifespan, router and dependencies."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError

from otpgate.core import wiring
from otpgate.core.aio import AsyncVerifier
from otpgate.core.challenge import Verification
from otpgate.core.credentials import AsyncCredentials, MemoryCredentials
from otpgate.core.errors import LoginRequired
from otpgate.core.events import Listener
from otpgate.core.executions import AsyncExecutions, TransactionStatus
from otpgate.core.mailers import AsyncEmailSender, EmailSender
from otpgate.core.memory_store import MemoryStore
from otpgate.core.senders import AsyncSender, Sender
from otpgate.core.settings import INTEGRATION_KEYS, Settings
from otpgate.core.simswap import AsyncSimSwapCheck, SimSwapCheck
from otpgate.core.store import AsyncStore

from . import dependencies, step_up
from .gate_state import GateState
from .otp_required import Endpoint, protect
from .problems import exception_handlers, handle_validation_error

#: Credentials live here unless told otherwise: SQLite in the working directory.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///otpgate.db"


async def _no_subject() -> str:
    raise LoginRequired()


class OtpGate(GateState):
    """otpgate for a FastAPI app. No globals: make one per app.

    ``redis_url`` (or ``store``) selects the challenge store, in-memory by default (one
    process only); ``redis_options`` go to ``AsyncRedisStore.from_url`` (``prefix``,
    ``cluster``, redis-py options such as ``socket_timeout``). Credentials: ``credentials``,
    else SQLAlchemy on ``database_url`` (``sqlite+aiosqlite:///otpgate.db`` by default, tables
    created if missing; ``None`` keeps them in memory; pass ``credentials=`` to manage the
    engine and its migrations yourself).
    ``current_subject`` is a FastAPI dependency returning the authenticated user id (or
    override ``gate.current_subject`` in ``app.dependency_overrides``); ``session_key``
    identifies the token/session that step-up state belongs to (default: the
    ``Authorization`` header, which the hot routes read from the request themselves: give
    another one here, not in ``app.dependency_overrides``). The store and database are
    opened by :meth:`lifespan`; the in-memory store logs a WARNING there (one process
    only) unless the app is in debug mode
    (``FastAPI(debug=True)``) or ``single_process=True`` says it is meant.
    ``account_label`` (a function of the subject, sync or async) names the account in
    authenticator apps when the request gives none; the site returns the user's email or
    user name, as Django and Flask do by default (without it: the subject).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        redis_url: str | None = None,
        redis_options: Mapping[str, Any] | None = None,
        database_url: str | None = DEFAULT_DATABASE_URL,
        store: AsyncStore | MemoryStore | None = None,
        sender: AsyncSender | Sender | None = None,
        email_sender: AsyncEmailSender | EmailSender | None = None,
        credentials: AsyncCredentials | MemoryCredentials | None = None,
        current_subject: Callable[..., Any] | None = None,
        session_key: Callable[..., Any] | None = None,
        prefix: str = "/otpgate",
        tags: list[str] | None = None,
        clock: Callable[[], float] = time.time,
        single_process: bool = False,
        sim_swap: AsyncSimSwapCheck | SimSwapCheck | None = None,
        account_label: Callable[[str], str | Awaitable[str]] | None = None,
    ) -> None:
        self.settings = settings
        #: The in-memory store is meant (tests, development): no warning at start-up.
        self.single_process = single_process
        self.redis_url = redis_url
        self.redis_options = dict(redis_options or {})
        self.database_url = database_url
        self.prefix = prefix
        self.tags: list[str | Any] = list(tags or ["otpgate"])
        self.clock = clock
        self._store = store
        self._sender = sender
        self._sim_swap = sim_swap
        self._email_sender = email_sender
        self._credentials = credentials
        self._listeners: list[Listener] = []
        self._verifier: AsyncVerifier | None = None
        self._executions: AsyncExecutions | None = None
        self._router: APIRouter | None = None
        self._installed_in: FastAPI | None = None
        #: How long step-up state is kept: the longest ``max_age`` any dependency asks for.
        self.state_ttl = settings.step_up_max_age
        #: The step-up tokens that opened, for every ``require_second_factor`` of this gate.
        self.step_up_tokens = step_up.OpenedTokens()
        self.current_subject: Callable[..., Any] = current_subject or _no_subject
        self.session_key: Callable[..., Any] = session_key or self._authorization
        self.client_ip: Callable[..., Any] = self._client_ip
        self.account_label = account_label
        AsyncVerifier(settings, store=MemoryStore(), credentials=MemoryCredentials())  # validate

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> OtpGate:
        """Settings from ``OTPGATE_*`` variables, and the parts every integration names the
        same way: ``OTPGATE_STORE`` (``memory`` or a Redis URL) with
        ``OTPGATE_STORE_OPTIONS`` (JSON), ``OTPGATE_SENDER`` (``console``, ``outbox`` or a
        dotted path), ``OTPGATE_EMAIL_SENDER`` (``smtp`` with the ``OTPGATE_SMTP_*`` keys,
        ``console``, ...) and ``OTPGATE_DATABASE_URL`` (``memory`` or empty: credentials in
        memory). ``kwargs`` go to the constructor and win over the environment. The old
        ``OTPGATE_REDIS_URL`` still works, with a ``DeprecationWarning``."""
        env = dict(os.environ if environ is None else environ)
        parts = wiring.read(env, stacklevel=2)
        if parts.uses_redis:
            kwargs.setdefault("redis_url", parts.store)
            kwargs.setdefault("redis_options", parts.store_options)
        if parts.sender is not None and kwargs.get("sender") is None:
            kwargs["sender"] = wiring.build_sender(parts.sender)
        if parts.sim_swap is not None and kwargs.get("sim_swap") is None:
            kwargs["sim_swap"] = wiring.build_sim_swap(parts.sim_swap)
        if parts.email_sender is not None and kwargs.get("email_sender") is None:
            kwargs["email_sender"] = wiring.build_email_sender(
                parts.email_sender, parts.smtp, asynchronous=True
            )
        if wiring.DATABASE_URL in env:
            url = parts.database_url
            kwargs.setdefault("database_url", None if url in (None, wiring.MEMORY) else url)
        return cls(Settings.from_mapping(env, ignore=INTEGRATION_KEYS), **kwargs)

    async def transaction_state(
        self, subject: str, action: str, details: Mapping[str, Any]
    ) -> TransactionStatus:
        """Where ``subject``'s transaction on ``details`` for ``action`` (by default a route's
        ``"<METHOD> <path template>"``) is: pending, confirmed, executed, failed, expired,
        canceled or unknown, with its recorded outcome."""
        return await self.executions.state(subject, action, details)

    async def cancel_transaction(
        self, subject: str, action: str, details: Mapping[str, Any]
    ) -> bool:
        """The user gave up a transaction before confirming it (an app's cancel route): it
        becomes ``canceled`` and its code no longer confirms it; False if it was not
        pending (or failed)."""
        return await self.executions.cancel(self.executions.key(subject, action, details))

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every :class:`~otpgate.Event` (audit logs, metrics)."""
        self._listeners.append(listener)
        if self._verifier is not None:
            self._verifier.subscribe(listener)

    # -- wiring ------------------------------------------------------------------------------

    @property
    def router(self) -> APIRouter:
        """The API under :attr:`prefix`: challenges, TOTP, recovery codes, factors."""
        if self._router is None:
            from .router import build_router

            self._router = build_router(self)
        return self._router

    @property
    def exception_handlers(self) -> dict[Any, Any]:
        """For ``FastAPI(exception_handlers=...)``: otpgate errors become problem details
        (those saying a second factor is missing link to :attr:`router`'s routes)."""
        return exception_handlers(self.prefix)

    def install(self, app: FastAPI, *, validation_errors: bool = False) -> None:
        """Include :attr:`router` and register :attr:`exception_handlers` on ``app``.

        ``validation_errors=True`` also answers the app's own request validation errors as
        otpgate's ``malformed_input`` problem (400) instead of FastAPI's 422 (otpgate's routes
        always do).
        """
        for error, handler in exception_handlers(self.prefix).items():
            app.add_exception_handler(error, handler)
        if validation_errors:
            app.add_exception_handler(RequestValidationError, handle_validation_error)
        app.include_router(self.router)
        self._installed_in = app  # the lifespan checks its routes even if not handed the app

    # -- dependencies ----------------------------------------------------------------------------

    @staticmethod
    async def _authorization(request: Request) -> str:
        credentials = request.headers.get("authorization", "")
        if not credentials.strip():
            raise LoginRequired()
        return credentials

    @staticmethod
    async def _client_ip(request: Request) -> str | None:
        return request.client.host if request.client else None

    def require_second_factor(
        self, max_age: int | None = None
    ) -> Callable[..., Awaitable[Verification]]:
        """A dependency: this token/session passed a second factor within ``max_age`` seconds
        (default ``settings.step_up_max_age``), else 401 with an RFC 9470 challenge. Declare
        ``responses=gate.step_up_responses`` on the route. On a hot route prefer the
        decorator, :meth:`otp_required` (the same check, one FastAPI dependency level less)."""
        return dependencies.second_factor(self, max_age or self.settings.step_up_max_age)

    def otp_required(self, max_age: int | None = None) -> Callable[[Endpoint], Endpoint]:
        """A decorator of an endpoint, UNDER its route decorator: the check of
        :meth:`require_second_factor` without a FastAPI dependency level (faster on a hot
        route)::

            @app.post("/transfer", responses=gate.step_up_responses)
            @gate.otp_required(max_age=300)
            async def transfer(body: T, user: str = Depends(current_user)): ...

        The subject is the endpoint's own ``Depends(gate.current_subject)`` parameter if it
        has one (else a hidden one: overrides apply); a parameter annotated
        :class:`~otpgate.Verification` receives what passed. Sync endpoints run in the
        threadpool; generator endpoints are refused. Above the route decorator it would
        leave the route unprotected: the gate's lifespan then refuses to start."""
        return protect(self, max_age or self.settings.step_up_max_age)

    def require_transaction(
        self,
        details: Callable[..., Any],
        *,
        summary: Callable[[Mapping[str, Any]], str] | None = None,
        replay_window: int = 86400,
        action: str | None = None,
    ) -> Callable[..., Awaitable[dependencies.VerifiedTransaction]]:
        """A dependency confirming a transaction with a second factor, bound to its details.

        ``details`` is itself a dependency returning the transaction's details (any mapping:
        amount, currency, payee, its id). Without ``OTP-Challenge``/``OTP-Code`` headers the
        confirmation opens on the subject's preferred factor that may confirm it (or the one
        the ``OTP-Factor`` header names; an SMS is sent, an app sends nothing) and the answer
        is 401 ``confirmation_required`` with the token (``OTP-Challenge``), ``factor`` and
        ``factors``; 409 ``factor_setup_required`` (``links``) when no factor may. With them
        the code is checked against exactly these details on this route and the handler
        runs, once. The code is also bound to ``action``, by default the route's method and
        path template (``POST /payments/{payment_id}/execute``): another route with the same
        details refuses it; routes that pass the same ``action=`` accept each other's codes.
        The same details cannot be confirmed again for the same action within
        ``replay_window`` seconds, so include the transaction's id. ``summary(details)`` is
        shown in the SMS (≤ 64 characters). Declare ``responses=gate.transaction_responses``.
        """
        return dependencies.transaction(self, details, summary, replay_window, action)

    @property
    def step_up_responses(self) -> dict[int | str, dict[str, Any]]:
        """OpenAPI ``responses=`` for a route using :meth:`require_second_factor` or
        :meth:`otp_required`."""
        return dependencies.STEP_UP_RESPONSES

    @property
    def transaction_responses(self) -> dict[int | str, dict[str, Any]]:
        """OpenAPI ``responses=`` for a route using :meth:`require_transaction`."""
        return dependencies.TRANSACTION_RESPONSES
