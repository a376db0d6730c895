"""A small FastAPI app with otpgate, run in-process through httpx, on each store.

``harness`` is parametrised over the in-memory store and a real Redis server (the session
server of ``tests/redis/fixtures.py``, a fresh key prefix per test). Everything runs on a fake
clock and an outbox sender. Users authenticate with ``Authorization: Bearer <subject>[.<n>]``:
the subject is the part before the dot, so one subject can hold several tokens (sessions).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

from otpgate import OutboxSender, Settings, Verification
from otpgate.integrations.fastapi import LoginRequired, OtpGate, VerifiedTransaction
from tests.conftest import KEY, PHONE, FakeClock

EXAMPLE = Path(__file__).parents[3] / "examples" / "fastapi_service" / "app.py"

SETTINGS = Settings(
    secret_keys=(KEY,),
    phone_budget_short="1000/15m",
    phone_budget_long="1000/24h",
    subject_budget="1000/24h",
    ip_budget="1000/h",
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_subject(authorization: Annotated[str | None, Header()] = None) -> str:
    """The tests' authentication: ``Bearer alice`` or ``Bearer alice.2`` is alice."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise LoginRequired()
    return token.split(".", 1)[0]


class Transfer(BaseModel):
    id: str
    amount: Decimal
    payee: str


def make_app(gate: OtpGate, executed: list[dict[str, Any]]) -> FastAPI:
    """An app with a step-up route and a transfer confirmed by code (details from the body)."""
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app, validation_errors=True)
    fresh = gate.require_second_factor(max_age=300)

    @app.get("/secret", responses=gate.step_up_responses)
    async def secret(
        verified: Verification = Depends(fresh),  # noqa: B008
    ) -> dict[str, str]:
        return {"subject": verified.subject, "factor": verified.factor}

    async def transfer_details(body: Transfer) -> dict[str, Any]:
        return body.model_dump()  # Decimal amounts: 250 and 250.00 are one amount

    confirm = gate.require_transaction(transfer_details, summary=lambda d: f"Pay {d['amount']}")

    @app.post("/transfers", responses=gate.transaction_responses)
    async def transfer(
        body: Transfer,
        tx: VerifiedTransaction = Depends(confirm),  # noqa: B008
    ) -> dict[str, str]:
        executed.append(tx.details)
        return {"executed": body.id}

    @app.post("/standing-orders", responses=gate.transaction_responses)
    async def standing_order(
        body: Transfer,
        tx: VerifiedTransaction = Depends(confirm),  # noqa: B008
    ) -> dict[str, str]:
        """The same details as a transfer, another action: a transfer's code must fail."""
        executed.append({**tx.details, "action": tx.action})
        return {"ordered": body.id}

    app.state.fail_next = 0
    app.state.refuse_next = 0

    @app.post("/flaky-transfers", responses=gate.transaction_responses)
    async def flaky_transfer(
        body: Transfer,
        tx: VerifiedTransaction = Depends(confirm),  # noqa: B008
    ) -> dict[str, str]:
        """Fails (the bank is down) while ``app.state.fail_next`` counts down."""
        if app.state.fail_next > 0:
            app.state.fail_next -= 1
            raise HTTPException(502, "The bank is down.")
        if app.state.refuse_next > 0:
            app.state.refuse_next -= 1
            raise HTTPException(422, "Insufficient funds.")
        executed.append(tx.details)
        tx.outcome["executed"] = body.id
        return {"executed": body.id}

    async def order_details(order: str = "") -> dict[str, Any]:
        return {"order": order[:32]}

    on_any_method = gate.require_transaction(order_details)

    @app.api_route(
        "/orders/lookup",
        methods=["GET", "HEAD", "OPTIONS", "TRACE", "POST"],
        include_in_schema=False,
    )
    async def lookup_order(
        tx: VerifiedTransaction = Depends(on_any_method),  # noqa: B008
    ) -> dict[str, str]:
        """Requires a transaction on GET too (a mistake): a GET must never send a code."""
        executed.append(tx.details)
        return {"order": tx.details["order"]}

    same_as_transfers = gate.require_transaction(transfer_details, action="POST /transfers")

    @app.post("/transfers/{version}", responses=gate.transaction_responses)
    async def transfer_alias(
        body: Transfer,
        tx: VerifiedTransaction = Depends(same_as_transfers),  # noqa: B008
    ) -> dict[str, str]:
        """Another route for the transfer, naming the action of ``POST /transfers``."""
        executed.append(tx.details)
        return {"executed": body.id}

    return app


@dataclass
class Harness:
    app: FastAPI
    gate: OtpGate
    outbox: OutboxSender
    clock: FakeClock
    client: httpx.AsyncClient
    kind: str
    executed: list[dict[str, Any]] = field(default_factory=list)

    def code(self, phone: str = PHONE) -> str:
        code = self.outbox.last_code_for(phone)
        assert code is not None
        return code

    async def add_phone(self, subject: str, phone: str = PHONE) -> None:
        await self.gate.verifier.credentials.add_phone(subject, phone)

    async def pass_sms(self, token: str, phone: str = PHONE) -> None:
        """This token passes a second factor by SMS (step-up becomes fresh)."""
        started = await self.client.post(
            "/otpgate/challenges", json={"purpose": "action"}, headers=bearer(token)
        )
        assert started.status_code == 201, started.text
        checked = await self.client.post(
            f"/otpgate/challenges/{started.json()['id']}/check",
            json={"code": self.code(phone)},
            headers=bearer(token),
        )
        assert checked.status_code == 200, checked.text


PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    return body


def wrong_code(harness: Harness) -> str:
    return "000000" if harness.code() != "000000" else "111111"


def make_gate(store: Any, clock: FakeClock, outbox: OutboxSender, **kwargs: Any) -> OtpGate:
    kwargs.setdefault("database_url", None)
    kwargs.setdefault("current_subject", token_subject)
    kwargs.setdefault("single_process", True)  # the in-memory store is meant: no warning
    return OtpGate(SETTINGS, store=store, sender=outbox, clock=clock, **kwargs)


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def redis_store_for(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """``make(clock)`` → an AsyncRedisStore on the session server, fresh prefix; closed after."""
    made: list[Any] = []

    def make(clock: FakeClock | None = None) -> Any:
        from otpgate.redis import AsyncRedisStore
        from tests.redis.fixtures import new_prefix

        server = request.getfixturevalue("redis_server")
        # generous timeouts: 100 concurrent new connections on a loaded 2-core machine
        store = AsyncRedisStore.from_url(
            server.url, prefix=new_prefix(), socket_connect_timeout=5, socket_timeout=5
        )
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture
async def harness(store_kind: str, redis_store_for: Any) -> AsyncIterator[Harness]:
    from otpgate import MemoryStore

    clock, outbox = FakeClock(), OutboxSender()
    store = redis_store_for(clock) if store_kind == "redis" else MemoryStore(clock=clock)
    gate = make_gate(store, clock, outbox)
    executed: list[dict[str, Any]] = []
    app = make_app(gate, executed)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    async with app.router.lifespan_context(app), client:
        yield Harness(app, gate, outbox, clock, client, store_kind, executed)


def load_example() -> ModuleType:
    """``examples/fastapi_service/app.py`` as a module (examples are not a package)."""
    name = "otpgate_fastapi_example"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
