"""100 concurrent confirmations of one payment with the right code: it executes once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from otpgate import MemoryStore, OutboxSender
from tests.conftest import PHONE, FakeClock

from .conftest import bearer, load_example, make_gate

ALICE = bearer("alice-token")
PAYMENT = {"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}


async def test_one_payment_confirmed_100_times_at_once_executes_once(
    store_kind: str, redis_store_for, tmp_path: Path
):
    example = load_example()
    clock, outbox = FakeClock(), OutboxSender()
    store = redis_store_for(clock) if store_kind == "redis" else MemoryStore(clock=clock)
    gate = make_gate(
        store,
        clock,
        outbox,
        current_subject=example.current_subject,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/otpgate.db",
    )
    app = example.create_app(gate)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    async with app.router.lifespan_context(app), client:
        payment = (await client.post("/payments", json=PAYMENT, headers=ALICE)).json()
        execute = f"/payments/{payment['id']}/execute"
        started = await client.post(execute, headers=ALICE)
        assert started.status_code == 401
        headers = {
            **ALICE,
            "OTP-Challenge": started.headers["OTP-Challenge"],
            "OTP-Code": outbox.last_code_for(PHONE),
        }
        responses = await asyncio.gather(
            *[client.post(execute, headers=headers) for _ in range(100)]
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 409: 99}, statuses
        # the others were told it is executing or executed, never "expired"
        codes = {r.json()["code"] for r in responses if r.status_code == 409}
        assert codes <= {"transaction_in_progress", "transaction_executed"}, codes
        assert app.state.ledger.executions == 1
        final = await client.get(f"/payments/{payment['id']}", headers=ALICE)
        assert final.json()["status"] == "executed"
        state = await gate.transaction_state(
            "alice",
            "POST /payments/{payment_id}/execute",
            {"payment": payment["id"], **{k: final.json()[k] for k in PAYMENT}},
        )
        assert state.state == "executed"
        # the same request replayed answers the recorded outcome
        replay = await client.post(execute, headers=headers)
        assert replay.status_code == 409
        assert replay.json()["code"] == "transaction_executed"
        assert replay.json()["outcome"] == {"payment": payment["id"], "status": "executed"}
        # and once more, later, with a new code: refused before any SMS is sent
        again = await client.post(execute, headers=ALICE)
        assert again.status_code == 409
        assert again.json()["code"] == "transaction_executed"
        assert len(outbox.messages) == 1


async def test_one_transfer_confirmed_by_app_100_times_at_once_executes_once(harness):
    from .test_confirm_factors import app_code, open_transfer
    from .test_factor_api import enroll_app
    from .test_transactions import TRANSFER, confirm_headers

    totp = await enroll_app(harness)
    _, token = await open_transfer(harness.client)
    headers = confirm_headers(token, app_code(harness, totp), bearer("alice"))
    responses = await asyncio.gather(
        *[harness.client.post("/transfers", json=TRANSFER, headers=headers) for _ in range(100)]
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses[200] == 1 and set(statuses) <= {200, 400, 409, 429}, statuses
    # the others: executing, executed, the app code already used, or too many app checks at
    # once (the app's throttle); never "expired"
    codes = {r.json()["code"] for r in responses if r.status_code != 200}
    assert "expired" not in codes, codes
    assert [t["id"] for t in harness.executed] == ["t-1"]
    assert harness.outbox.messages == []
