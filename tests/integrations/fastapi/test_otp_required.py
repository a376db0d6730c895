"""Issue 17: ``@gate.otp_required`` (the decorator form of ``require_second_factor``, no
FastAPI dependency level): the same decision, the same errors, the endpoint never called when
it refuses; the app's ``current_subject`` (and its overrides) as FastAPI solves it; OpenAPI
without what the decorator adds (the wrong order: ``test_otp_required_order.py``)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

from otpgate import MemoryStore, OutboxSender, Verification
from otpgate.integrations.fastapi import LoginRequired, OtpGate
from tests.conftest import FakeClock
from tests.redis.servers import free_port

from .conftest import SETTINGS, Harness, assert_problem, bearer, make_gate, token_subject
from .test_request_cost import STEP_UP, CountingStore, passed_sms

MEMORY = pytest.mark.parametrize("store_kind", ["memory"])
ALICE = bearer("alice")
LINKS = {
    "offer": "/otpgate/factors/offer?purpose=action",
    "enroll": "/otpgate/factors/offer?purpose=enroll",
    "start": "/otpgate/factors/start",
    "verify": "/otpgate/verify",
}


class Payment(BaseModel):
    amount: int


class Receipt(BaseModel):
    subject: str
    amount: int


class Routes:
    """Decorated routes added to the harness's app; ``calls`` records every endpoint run."""

    def __init__(self, harness: Harness) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.threads: list[int] = []
        self.subjects: list[str] = []
        app, gate = harness.app, harness.gate
        calls = self.calls

        @app.post("/pay", responses=gate.step_up_responses)
        @gate.otp_required(max_age=300)
        async def pay(body: Payment, user: str = Depends(gate.current_subject)) -> Receipt:
            """Pay, with a fresh second factor."""
            calls.append(("pay", user))
            return Receipt(subject=user, amount=body.amount)

        @app.get("/annotated")
        @gate.otp_required(max_age=300)
        async def annotated(
            user: Annotated[str, Depends(token_subject)], verified: Verification
        ) -> dict[str, str]:
            calls.append(("annotated", user))
            return {"subject": user, "factor": verified.factor}

        @app.get("/hidden")
        @gate.otp_required(max_age=300)
        async def hidden(request: Request) -> dict[str, str]:
            """No subject of its own: the decorator adds it, hidden."""
            calls.append(("hidden", request.url.path))
            return {"ok": "yes"}

        threads = self.threads

        @app.delete("/sync", status_code=204)
        @gate.otp_required(max_age=300)
        def sync(user: str = Depends(gate.current_subject)) -> None:
            threads.append(threading.get_ident())
            calls.append(("sync", user))

        @app.get("/filtered", response_model=Payment)
        @gate.otp_required(max_age=300)
        async def filtered(user: str = Depends(gate.current_subject)) -> Any:
            calls.append(("filtered", user))
            return {"amount": 7, "secret": "not shown"}


@pytest.fixture
def routes(harness: Harness) -> Routes:
    return Routes(harness)


async def test_without_a_second_factor_the_endpoint_never_runs(
    harness: Harness, routes: Routes
) -> None:
    c = harness.client
    refused = await c.post("/pay", json={"amount": 5}, headers=ALICE)
    body = assert_problem(refused, 401, "fresh_otp_required")
    assert body["links"] == LINKS
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'max_age="300"' in challenge
    for method, path in [("GET", "/annotated"), ("GET", "/hidden"), ("DELETE", "/sync")]:
        answer = await c.request(method, path, headers=ALICE)
        assert_problem(answer, 401, "fresh_otp_required")
    login = await c.post("/pay", json={"amount": 5})
    assert_problem(login, 401, "login_required")
    assert routes.calls == []


async def test_the_step_up_token_passes_without_the_store(harness: Harness, routes: Routes) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    store = CountingStore(harness)
    headers = {**ALICE, STEP_UP: step_up}
    paid = await harness.client.post("/pay", json={"amount": 5}, headers=headers)
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"subject": "alice", "amount": 5}
    assert store.total() == 0, store.calls
    assert routes.calls == [("pay", "alice")]


async def test_the_stores_state_passes_with_one_round_trip(
    harness: Harness, routes: Routes
) -> None:
    await harness.add_phone("alice")
    await passed_sms(harness)
    store = CountingStore(harness)
    paid = await harness.client.post("/pay", json={"amount": 5}, headers=ALICE)
    assert paid.status_code == 200, paid.text
    assert store.total() == 1, store.calls
    answer = await harness.client.get("/annotated", headers=ALICE)
    assert answer.json() == {"subject": "alice", "factor": "sms"}  # the Verification passed
    assert routes.calls == [("pay", "alice"), ("annotated", "alice")]


@MEMORY
async def test_another_subjects_or_sessions_token_is_refused(
    harness: Harness, routes: Routes
) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    for other in ["bob", "alice.2"]:  # another user; alice in another session
        headers = {**bearer(other), STEP_UP: step_up}
        answer = await harness.client.post("/pay", json={"amount": 5}, headers=headers)
        assert_problem(answer, 401, "fresh_otp_required")
    assert routes.calls == []


async def test_max_age_ends_the_pass(harness: Harness, routes: Routes) -> None:
    """``max_age`` holds for the token and for the store's state alike."""
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    harness.clock.advance(299)
    for headers in [{**ALICE, STEP_UP: step_up}, ALICE]:
        assert (await harness.client.get("/hidden", headers=headers)).status_code == 200
    harness.clock.advance(2)
    for headers in [{**ALICE, STEP_UP: step_up}, ALICE]:
        answer = await harness.client.get("/hidden", headers=headers)
        assert_problem(answer, 401, "fresh_otp_required")
    assert len(routes.calls) == 2


@MEMORY
async def test_a_longer_max_age_keeps_the_state_that_long(harness: Harness) -> None:
    """As the dependency: the decorator raises ``gate.state_ttl`` to its ``max_age``."""
    gate = harness.gate

    @harness.app.get("/lenient")
    @gate.otp_required(max_age=7200)
    async def lenient(verified: Verification) -> dict[str, float]:
        return {"at": verified.verified_at}

    assert gate.state_ttl == 7200
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    harness.clock.advance(7000)
    for headers in [{**ALICE, STEP_UP: step_up}, ALICE]:
        assert (await harness.client.get("/lenient", headers=headers)).status_code == 200


@MEMORY
async def test_the_apps_override_of_current_subject_is_used_once(
    harness: Harness, routes: Routes
) -> None:
    """An override of ``gate.current_subject`` decides the subject, for the endpoint and the
    check alike, computed once per request (the endpoint's own parameter), and the hidden
    one of an endpoint without it is overridden too."""
    solved: list[str] = []

    async def everyone_is_bob(authorization: Annotated[str | None, Header()] = None) -> str:
        solved.append("bob")
        return "bob"

    harness.app.dependency_overrides[harness.gate.current_subject] = everyone_is_bob
    await harness.add_phone("bob")
    step_up = await passed_sms(harness, "bob")
    before = len(solved)
    headers = {**bearer("bob"), STEP_UP: step_up}
    paid = await harness.client.post("/pay", json={"amount": 5}, headers=headers)
    assert paid.json()["subject"] == "bob"
    assert len(solved) == before + 1
    assert (await harness.client.get("/hidden", headers=headers)).status_code == 200
    assert len(solved) == before + 2
    alice = await harness.client.post("/pay", json={"amount": 5}, headers=ALICE)
    assert_problem(alice, 401, "fresh_otp_required")  # bob now, but not on alice's session
    assert routes.calls == [("pay", "bob"), ("hidden", "/hidden")]


@MEMORY
async def test_the_decorator_adds_no_dependency_level(harness: Harness, routes: Routes) -> None:
    """What FastAPI solves for a decorated route is what the endpoint declares (its subject,
    its body) and a ``Request``: no dependency of otpgate's, so nothing FastAPI charges ~9 µs
    a level for; the dependency form is one level above the subject."""
    solved = {
        route.path: route.dependant
        for route in harness.app.routes
        if isinstance(route, APIRoute) and route.path in ("/pay", "/hidden", "/secret")
    }
    for path in ["/pay", "/hidden"]:
        assert [d.call for d in solved[path].dependencies] == [token_subject], path
        assert solved[path].request_param_name is not None
    secret = solved["/secret"].dependencies  # the dependency form, for comparison
    assert [d.call for d in secret[0].dependencies] == [token_subject]


@MEMORY
async def test_a_sync_endpoint_runs_in_the_threadpool_after_the_check(
    harness: Harness, routes: Routes
) -> None:
    refused = await harness.client.delete("/sync", headers=ALICE)
    assert_problem(refused, 401, "fresh_otp_required")
    assert routes.calls == []
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    answer = await harness.client.delete("/sync", headers={**ALICE, STEP_UP: step_up})
    assert answer.status_code == 204, answer.text
    assert routes.calls == [("sync", "alice")]
    assert routes.threads != [threading.get_ident()]  # not on the event loop's thread


@MEMORY
async def test_the_response_model_is_kept(harness: Harness, routes: Routes) -> None:
    """From the return annotation (a string here: ``from __future__ import annotations``)
    and from ``response_model=``, in OpenAPI and in the answer."""
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    answer = await harness.client.get("/filtered", headers={**ALICE, STEP_UP: step_up})
    assert answer.json() == {"amount": 7}
    schema = harness.app.openapi()
    ok = schema["paths"]["/pay"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/Receipt"}
    filtered = schema["paths"]["/filtered"]["get"]["responses"]["200"]["content"]
    assert filtered["application/json"]["schema"] == {"$ref": "#/components/schemas/Payment"}


@MEMORY
async def test_openapi_shows_no_hidden_parameter(harness: Harness, routes: Routes) -> None:
    schema = harness.app.openapi()
    pay = schema["paths"]["/pay"]["post"]
    assert pay["description"] == "Pay, with a fresh second factor."
    assert pay["operationId"] == "pay_pay_post"
    assert pay["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Payment"
    }
    for operation in [pay, schema["paths"]["/hidden"]["get"], schema["paths"]["/sync"]["delete"]]:
        # only the subject's own Authorization header, as on any route that authenticates
        assert [p["name"] for p in operation.get("parameters", [])] == ["authorization"]
    assert "otpgate" not in str(schema["paths"]["/annotated"]).replace("/otpgate/", "")
    assert {"401", "503"} <= set(pay["responses"])  # responses=gate.step_up_responses
    assert "otpgate" not in str(schema["components"]["schemas"].get("Body_pay_pay_post", ""))


@MEMORY
async def test_streaming_and_odd_endpoints_are_refused_when_decorated(harness: Harness) -> None:
    gate = harness.gate

    async def events() -> AsyncIterator[str]:
        yield "a"

    def lines() -> Iterator[str]:
        yield "a"

    for endpoint in [events, lines]:
        with pytest.raises(TypeError, match="streaming"):
            gate.otp_required()(endpoint)
    with pytest.raises(TypeError, match="endpoint function"):
        gate.otp_required()(object())  # type: ignore[type-var]


async def own_session(session: Annotated[str | None, Header()] = None) -> str:
    if not session:
        raise LoginRequired()
    return session


async def test_an_apps_own_session_key_binds_the_pass() -> None:
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender(), session_key=own_session)
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)
    calls: list[str] = []

    @app.get("/secret")
    @gate.otp_required()
    async def secret(verified: Verification) -> dict[str, str]:
        calls.append(verified.subject)
        return {"subject": verified.subject}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        step_up = await gate.passed("s-1", Verification("alice", "action", "totp", clock()))
        mine = {**ALICE, "Session": "s-1"}
        assert (await client.get("/secret", headers=mine)).status_code == 200  # the store's
        assert (await client.get("/secret", headers={**mine, STEP_UP: step_up})).status_code == 200
        other = {**ALICE, "Session": "s-2", STEP_UP: step_up}
        assert_problem(await client.get("/secret", headers=other), 401, "fresh_otp_required")
        assert_problem(await client.get("/secret", headers=ALICE), 401, "login_required")
    assert calls == ["alice", "alice"]
    assert "session" in str(app.openapi()["paths"]["/secret"]["get"]["parameters"]).lower()


@MEMORY
async def test_overriding_the_default_session_key_is_refused_not_ignored(
    harness: Harness, routes: Routes
) -> None:
    """As for the dependency: the decorator reads the ``Authorization`` header itself, so an
    override of the default ``gate.session_key`` fails loudly and the endpoint never runs."""
    harness.app.dependency_overrides[harness.gate.session_key] = own_session
    with pytest.raises(RuntimeError, match="session_key="):
        await harness.client.get("/hidden", headers={**ALICE, "Session": "s-1"})
    assert routes.calls == []


async def test_redis_down_is_503_and_the_endpoint_never_runs() -> None:
    gate = OtpGate(
        SETTINGS,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        database_url=None,
        sender=OutboxSender(),
        current_subject=token_subject,
    )
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)
    calls: list[str] = []

    @app.post("/pay")
    @gate.otp_required()
    async def pay(user: str = Depends(token_subject)) -> dict[str, str]:
        calls.append(user)
        return {}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        answer = await client.post("/pay", headers={**ALICE, STEP_UP: "not-a-token"})
        assert_problem(answer, 503, "storage_unavailable")
    assert calls == []
