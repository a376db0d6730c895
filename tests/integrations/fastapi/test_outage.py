"""A store or database outage is a 503 problem: never an approval, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.fastapi import OtpGate
from otpgate.sqlalchemy import AsyncSQLAlchemyCredentials
from tests.conftest import PHONE, FakeClock
from tests.redis.servers import free_port

from .conftest import SETTINGS, bearer, make_app, token_subject

ALICE = bearer("alice")
TRANSFER = {"id": "t-1", "amount": "250.00", "payee": "DE89370400440532013000"}
ID = "{alice}." + "B" * 22  # a well-formed id of alice's (never issued)


async def client_for(gate: OtpGate) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the test app around ``gate``, inside its lifespan."""
    app = make_app(gate, [])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        yield client


@pytest.fixture
async def redis_down() -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The gate's Redis URL points at a loopback port where nothing listens."""
    gate = OtpGate(
        SETTINGS,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        database_url=None,
        sender=OutboxSender(),
        current_subject=token_subject,
    )
    async for client in client_for(gate):
        # alice has a phone (credentials are in memory): her codes reach the store
        await gate.verifier.credentials.add_phone("alice", PHONE)
        yield client, gate.verifier.subject_key("alice")


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("POST", "/otpgate/challenges", {"purpose": "enroll", "phone": PHONE}, {}),
        ("GET", f"/otpgate/challenges/{ID}", None, {}),
        ("POST", f"/otpgate/challenges/{ID}/check", {"code": "123456"}, {}),
        ("POST", f"/otpgate/challenges/{ID}/resend", None, {}),
        ("GET", "/secret", None, {}),
        ("POST", "/transfers", TRANSFER, {}),
        ("POST", "/transfers", TRANSFER, {"OTP-Challenge": ID, "OTP-Code": "123456"}),
    ],
)
async def test_redis_down_is_503(
    redis_down: tuple[httpx.AsyncClient, str], method: str, path: str, body: object, headers: dict
):
    client, alice = redis_down
    headers = {name: value.format(alice=alice) for name, value in headers.items()}
    path = path.format(alice=alice)
    response = await client.request(method, path, json=body, headers={**ALICE, **headers})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "storage_unavailable"


async def test_database_failure_is_503(tmp_path: Path):
    # A database without otpgate's tables: every statement fails. (A database that cannot be
    # opened at all fails the same way, but aiosqlite's worker thread may then outlive the
    # test's event loop and warn: https://github.com/omnilib/aiosqlite/issues/241.)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    gate = OtpGate(
        SETTINGS,
        store=MemoryStore(),
        credentials=AsyncSQLAlchemyCredentials(engine),
        sender=OutboxSender(),
        current_subject=token_subject,
        clock=FakeClock(),
    )
    try:
        async for client in client_for(gate):
            for response in [
                await client.get("/otpgate/factors", headers=ALICE),
                await client.post("/otpgate/challenges", json={}, headers=ALICE),
                await client.post("/transfers", json=TRANSFER, headers=ALICE),
            ]:
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "storage_unavailable"
    finally:
        await engine.dispose()
