"""``OtpGate``'s lifespan: opening the store and credentials, building the verifier, and
the running verifier and executions it gives access to."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from otpgate.core.aio import AsyncVerifier
from otpgate.core.credentials import AsyncCredentials, MemoryCredentials
from otpgate.core.events import Listener
from otpgate.core.executions import DEFAULT_KEEP, AsyncExecutions
from otpgate.core.mailers import AsyncEmailSender, EmailSender
from otpgate.core.memory_store import MemoryStore
from otpgate.core.senders import AsyncSender, Sender
from otpgate.core.settings import Settings
from otpgate.core.simswap import AsyncSimSwapCheck, SimSwapCheck
from otpgate.core.store import AsyncStore

from .ledger import Ledger, StoreLedger
from .otp_required import refuse_unprotected_routes

logger = logging.getLogger("otpgate")


class GateLifespan:
    """The lifespan half of :class:`~otpgate.integrations.fastapi.OtpGate` (its attributes
    are set by ``OtpGate.__init__``)."""

    settings: Settings
    single_process: bool
    redis_url: str | None
    redis_options: dict[str, Any]
    database_url: str | None
    clock: Callable[[], float]
    _store: AsyncStore | MemoryStore | None
    _sender: AsyncSender | Sender | None
    _sim_swap: AsyncSimSwapCheck | SimSwapCheck | None
    _email_sender: AsyncEmailSender | EmailSender | None
    _credentials: AsyncCredentials | MemoryCredentials | None
    _listeners: list[Listener]
    _verifier: AsyncVerifier | None
    _executions: AsyncExecutions | None
    _installed_in: object

    # -- lifecycle ------------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """Open the store and credentials, build the verifier; close them on the way out.

        ``FastAPI(lifespan=gate.lifespan)``, or ``async with gate.lifespan(app):`` inside the
        app's own lifespan.
        """
        if self._verifier is not None:
            raise RuntimeError("this OtpGate is already running; make one OtpGate per app")
        # @gate.otp_required above a route decorator: refuse to start
        refuse_unprotected_routes(app if app is not None else self._installed_in)
        async with AsyncExitStack() as stack:
            store = self._store
            if store is None and self.redis_url:
                from otpgate.redis import AsyncRedisStore

                store = AsyncRedisStore.from_url(self.redis_url, **self.redis_options)
                stack.push_async_callback(store.aclose)
            if store is None:
                store = MemoryStore(clock=self.clock)
            if isinstance(store, MemoryStore) and not (
                self.single_process or getattr(app, "debug", False)
            ):
                logger.warning(
                    "otpgate: the in-memory store keeps challenges, send budgets and lockouts "
                    "in this process only; with several workers or hosts set OTPGATE_STORE "
                    "(or redis_url=) to a redis:// URL"
                )
            credentials = self._credentials or await self._open_credentials(stack)
            verifier = AsyncVerifier(
                self.settings,
                store=store,
                sender=self._sender,
                credentials=credentials,
                clock=self.clock,
                sim_swap=self._sim_swap,
                email_sender=self._email_sender,
            )
            for listener in self._listeners:
                verifier.subscribe(listener)
            self._executions = AsyncExecutions(verifier, DEFAULT_KEEP)
            self._verifier = verifier
            try:
                yield
            finally:
                self._verifier = None
                self._executions = None

    async def _open_credentials(
        self, stack: AsyncExitStack
    ) -> AsyncCredentials | MemoryCredentials:
        if not self.database_url:
            return MemoryCredentials()
        try:
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.pool import StaticPool

            from otpgate.sqlalchemy import AsyncSQLAlchemyCredentials, create_all_async
        except ImportError as error:
            raise ImportError(
                "database_url needs SQLAlchemy's asyncio support and a driver: pip install "
                '"sqlalchemy[asyncio]" aiosqlite (or pass database_url=None: credentials in memory)'
            ) from error
        url = self.database_url
        in_memory = url.startswith("sqlite") and (url.endswith(":memory:") or url.endswith("://"))
        options: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {}
        engine = create_async_engine(url, **options)
        stack.push_async_callback(engine.dispose)
        await create_all_async(engine)
        return AsyncSQLAlchemyCredentials(engine, clock=self.clock)

    @property
    def verifier(self) -> AsyncVerifier:
        """The running :class:`~otpgate.AsyncVerifier` (between lifespan start and end)."""
        if self._verifier is None:
            raise RuntimeError(
                "OtpGate is not running: pass lifespan=gate.lifespan to FastAPI (or enter "
                "`async with gate.lifespan(app)`; httpx's ASGITransport does not run lifespans)"
            )
        return self._verifier

    @property
    def ledger(self) -> Ledger:
        """Deprecated: the step-up state and transactions are in the store protocol now
        (:attr:`executions`, :meth:`load_state`); this adapts the store to the old API."""
        return StoreLedger(self.verifier.store, self.clock)

    @property
    def executions(self) -> AsyncExecutions:
        """The running :class:`~otpgate.core.executions.AsyncExecutions` (exactly-once
        execution of confirmed transactions, on the gate's store)."""
        self.verifier  # noqa: B018 - the same check, the same message
        assert self._executions is not None
        return self._executions
