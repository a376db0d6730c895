"""Framing protection: every otpgate route (read from the OpenAPI schema) answers with
X-Frame-Options and CSP frame-ancestors (it serves JSON only, but never to a frame); the
setting relaxes them like on the other integrations' pages."""

from __future__ import annotations

import re
from typing import Any

import httpx

from otpgate import MemoryStore, OutboxSender
from tests.conftest import FakeClock

from .conftest import SETTINGS, bearer, make_app, make_gate

DENY = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'"}
BODIES: list[Any] = [{}, {"code": "000000"}, {"phone": "+33698765432"}, {"purpose": "action"}]


async def answers(settings: Any = SETTINGS) -> list[tuple[str, httpx.Response]]:
    clock, outbox = FakeClock(), OutboxSender()
    gate = make_gate(MemoryStore(clock=clock), clock, outbox)
    gate.settings = settings
    app = make_app(gate, [])
    paths = {p: ops for p, ops in app.openapi()["paths"].items() if p.startswith(gate.prefix)}
    assert len(paths) >= 8
    found = []
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        await gate.verifier.credentials.add_phone("alice", "+33612345678")
        for path, operations in paths.items():
            url = re.sub(r"\{[^}]+\}", "x" * 22, path)
            for method in sorted(operations):
                for headers in ({}, bearer("alice")):
                    for body in BODIES if method != "GET" else [None]:
                        response = await client.request(method, url, json=body, headers=headers)
                        found.append((f"{method} {url}", response))
    return found


async def test_every_otpgate_route_denies_framing():
    found = await answers()
    assert {response.status_code for _, response in found} >= {200, 201, 400, 401}
    for call, response in found:
        for name, value in DENY.items():
            assert response.headers.get(name) == value, (call, response.status_code, name)


async def test_the_setting_relaxes_it():
    relaxed = SETTINGS.replace(frame_ancestors=("'self'",))
    for call, response in await answers(relaxed):
        assert response.headers.get("x-frame-options") == "SAMEORIGIN", call
        assert response.headers.get("content-security-policy") == "frame-ancestors 'self'", call
