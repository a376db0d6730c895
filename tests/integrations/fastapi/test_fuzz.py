"""Malformed bodies and odd methods on every route of otpgate's router (from the OpenAPI).

Whatever arrives, from an anonymous caller, a signed-in token that has not passed a second
factor, one that has, or a user without factors: never a 5xx; a body otpgate cannot read
safely is a 400 ``malformed_input`` problem; an answer that refuses changes nothing (no SMS
sent, no factor changed, no attempt counted); HEAD and OPTIONS never change anything.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from otpgate import MemoryStore, OutboxSender
from tests.conftest import OTHER_PHONE, FakeClock
from tests.fuzz import JSON, ODD, REFUSED, Body

from .conftest import PROBLEM, Harness, bearer, make_app, make_gate

TOKENS = {"anonymous": None, "unverified": "alice", "verified": "alice.2", "no factor": "bob"}


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """The tests' app on the in-memory store (the fuzz is about bodies, not storage)."""
    clock, outbox = FakeClock(), OutboxSender()
    gate = make_gate(MemoryStore(clock=clock), clock, outbox)
    executed: list[dict[str, Any]] = []
    app = make_app(gate, executed)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        harness = Harness(app, gate, outbox, clock, client, "memory", executed)
        await harness.add_phone("alice")
        await harness.add_phone("carol", OTHER_PHONE)
        await harness.pass_sms("alice.2")
        yield harness


async def routes(harness: Harness) -> list[tuple[str, str]]:
    """(method, path) of every operation under the gate's prefix in the app's OpenAPI, with
    a live challenge of alice's for ``{challenge_id}``, a device handle for ``{ref}`` and a
    passkey id for ``{credential_id}``."""
    started = await harness.client.post("/otpgate/challenges", json={}, headers=bearer("alice"))
    challenge = started.json()["id"]
    found = [
        (
            method.upper(),
            path.replace("{challenge_id}", challenge)
            .replace("{ref}", "0123456789abcdef")
            .replace("{credential_id}", "AAAA"),
        )
        for path, operations in harness.app.openapi()["paths"].items()
        if path.startswith(harness.gate.prefix + "/")
        for method in operations
    ]
    assert len(found) >= 12 and all("{" not in path for _method, path in found)
    return found


async def snapshot(harness: Harness) -> tuple[object, ...]:
    """What a refused request must leave alone: messages sent, factors, challenges' state."""
    factors = [await harness.gate.verifier.factors(user) for user in ("alice", "bob", "carol")]
    return (len(harness.outbox.messages), *factors)


async def send(harness: Harness, method: str, path: str, body: Body, token: str | None) -> Any:
    raw, content_type = body
    headers = {"Content-Type": content_type} if content_type else {}
    if token:
        headers.update(bearer(token))
    return await harness.client.request(method, path, content=raw, headers=headers)


@pytest.mark.parametrize("name", list(REFUSED))
async def test_bodies_otpgate_cannot_read_are_400_everywhere(harness: Harness, name: str):
    before = await snapshot(harness)
    for method, path in await routes(harness):
        for session, token in TOKENS.items():
            response = await send(harness, method, path, REFUSED[name], token)
            where = f"{name}: {session} {method} {path} -> {response.status_code}"
            if method in {"GET", "DELETE"} and response.status_code != 400:
                assert response.status_code < 500, where  # no body expected: not read
                continue
            assert response.status_code == 400, where
            assert response.headers["content-type"] == PROBLEM, where
            assert response.json()["code"] == "malformed_input", where
    assert len(harness.outbox.messages) == before[0] + 1  # routes() started one challenge
    assert (await snapshot(harness))[1:] == before[1:]


@pytest.mark.parametrize("name", list(ODD))
async def test_odd_values_never_a_5xx_and_refusals_change_nothing(harness: Harness, name: str):
    for method, path in await routes(harness):
        for session, token in TOKENS.items():
            before = await snapshot(harness)
            response = await send(harness, method, path, ODD[name], token)
            where = f"{name}: {session} {method} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.headers["content-type"] == PROBLEM, where
                assert await snapshot(harness) == before, where


async def test_a_large_body_of_undeclared_length_is_cut_off(harness: Harness):
    async def chunks() -> AsyncIterator[bytes]:  # valid JSON: a number padded with blanks
        yield b'{"purpose": "enroll", "phone": "+33 6 98 76 54 32"'
        for _ in range(64):
            yield b" " * 16_384
        yield b"}"

    sent = len(harness.outbox.messages)
    response = await harness.client.post(
        "/otpgate/challenges",
        content=chunks(),
        headers={**bearer("bob"), "Content-Type": JSON},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 400 and response.json()["code"] == "malformed_input"
    assert len(harness.outbox.messages) == sent


STATE_CHANGING = {"purpose": "enroll", "phone": "+33 6 98 76 54 32", "code": "123456"}


@pytest.mark.parametrize("verb", ["HEAD", "OPTIONS", "PUT", "PATCH"])
async def test_other_methods_with_a_body_change_nothing(harness: Harness, verb: str):
    paths = {path for _method, path in await routes(harness)}
    challenge = next(p for p in paths if p.endswith("/cancel")).split("/")[-2]
    body = (json.dumps(STATE_CHANGING).encode(), JSON)
    for path in paths:
        for session, token in TOKENS.items():
            before = await snapshot(harness)
            response = await send(harness, verb, path, body, token)
            where = f"{session} {verb} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            assert await snapshot(harness) == before, where
    status = await harness.client.get(f"/otpgate/challenges/{challenge}", headers=bearer("alice"))
    assert status.status_code == 200, status.text
    assert status.json()["attempts_left"] == 5 and status.json()["status"] == "pending"
