"""Issue 17: ``@gate.otp_required`` put above the route decorator would leave the route
serving the endpoint unwrapped: the gate's lifespan refuses to start such an app (on the app
itself, an included router, a mounted app), and starts one whose decorators are in order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from otpgate import MemoryStore, OutboxSender, Verification
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import FakeClock

from .conftest import assert_problem, bearer, make_gate

ALICE = bearer("alice")


def wrong_order_app(gate: OtpGate, where: str) -> FastAPI:
    """An app serving ``close`` unprotected: ``where`` it is, on the app itself, on a router
    included under ``/account``, or on an app mounted at ``/account``."""
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)
    routes: Any = {"app": app, "router": APIRouter(), "mount": FastAPI()}[where]

    @gate.otp_required()  # wrong: above the route decorator
    @routes.post("/close")
    async def close(user: str = Depends(gate.current_subject)) -> dict[str, str]:
        raise AssertionError("never served")

    @routes.get("/fine")
    @gate.otp_required()
    async def fine() -> dict[str, str]:
        return {}

    if where == "router":
        app.include_router(routes, prefix="/account")
    elif where == "mount":
        app.mount("/account", routes)
    return app


@pytest.mark.parametrize("where", ["app", "router", "mount"])
async def test_the_decorator_above_the_route_fails_the_start(where: str) -> None:
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender())
    app = wrong_order_app(gate, where)
    path = "/close" if where == "app" else "/account/close"
    with pytest.raises(RuntimeError, match=f"{path} serves .*close WITHOUT its step-up check"):
        async with app.router.lifespan_context(app):
            pass
    with pytest.raises(RuntimeError, match="not running"):
        gate.verifier  # noqa: B018 - it never started


async def test_the_gates_own_lifespan_checks_the_app_it_was_installed_in() -> None:
    """``async with gate.lifespan():`` inside an app's own lifespan, without the app."""
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender())
    wrong_order_app(gate, "app")
    with pytest.raises(RuntimeError, match=r"/close serves .*close WITHOUT its step-up check"):
        async with gate.lifespan():
            pass


async def test_the_right_order_starts() -> None:
    """The check finds nothing to refuse in an app whose decorators are in order (the same
    functions served, wrapped, on the app, a router and a mounted app)."""
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender())
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)
    router, mounted = APIRouter(), FastAPI(exception_handlers=gate.exception_handlers)
    for routes in [app, router, mounted]:

        @routes.post("/close")
        @gate.otp_required()
        async def close(user: str = Depends(gate.current_subject)) -> dict[str, str]:
            return {"closed": user}

    async def shared(verified: Verification) -> dict[str, str]:
        return {"factor": verified.factor}

    app.get("/shared")(gate.otp_required()(shared))  # one function wrapped twice: both fine
    app.get("/shared/strict")(gate.otp_required(60)(shared))
    app.include_router(router, prefix="/account")
    app.mount("/mounted", mounted)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        for path in ["/close", "/account/close", "/mounted/close"]:
            answer = await client.post(path, headers=ALICE)
            assert_problem(answer, 401, "fresh_otp_required")
        for path in ["/shared", "/shared/strict"]:
            assert_problem(await client.get(path, headers=ALICE), 401, "fresh_otp_required")
