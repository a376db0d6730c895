"""FastAPI: a step-up by voice through the generic factor routes (issue 13). The API names no
factor: the offer lists ``voice`` as the alternative to ``sms``, ``/factors/start`` places the
call, ``/verify`` checks the code read back from the recorded call. Budgets and lockout hold
across SMS and voice together. Runs on the in-memory store and a real Redis server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from otpgate import MemoryStore, OutboxSender, OutboxVoiceSender, PhoneSender, Settings
from tests.conftest import KEY, PHONE, FakeClock

from .conftest import Harness, assert_problem, bearer, make_app, token_subject

ALICE = bearer("alice")


@pytest.fixture
async def voice(store_kind: str, redis_store_for: Any) -> AsyncIterator[tuple[Harness, Any]]:
    from otpgate.integrations.fastapi import OtpGate

    clock, outbox, calls = FakeClock(), OutboxSender(), OutboxVoiceSender()
    store = redis_store_for(clock) if store_kind == "redis" else MemoryStore(clock=clock)
    settings = Settings(secret_keys=(KEY,), lockout_after=3)
    gate = OtpGate(
        settings,
        store=store,
        sender=PhoneSender(outbox, calls),
        clock=clock,
        database_url=None,
        current_subject=token_subject,
        single_process=True,
    )
    app = make_app(gate, [])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        harness = Harness(app, gate, outbox, clock, client, store_kind)
        await harness.add_phone("alice")
        yield harness, calls


async def start(harness: Harness, factor: str, **headers: str) -> httpx.Response:
    body = {"factor": factor, "purpose": "action"}
    return await harness.client.post("/otpgate/factors/start", json=body, headers=ALICE | headers)


async def test_a_step_up_by_voice_through_the_factor_routes(voice):
    harness, calls = voice
    c = harness.client
    offer = await c.get("/otpgate/factors/offer", params={"purpose": "action"}, headers=ALICE)
    factors = {f["name"]: f for f in offer.json()["factors"]}
    assert list(factors) == ["sms", "voice"]
    assert factors["sms"]["preferred"] and factors["voice"]["alternative_to"] == "sms"
    assert factors["voice"]["sends"] and factors["voice"]["destination"].endswith("5678")

    assert (await start(harness, "sms")).status_code == 200  # the text did not arrive...
    started = await start(harness, "voice")  # ..."Call me instead"
    assert started.status_code == 200, started.text
    challenge = started.json()["challenge"]
    assert started.json()["factor"] == "voice" and challenge["masked_phone"].endswith("5678")
    [call] = calls.calls
    assert call.to == PHONE and call.code is not None
    body = {"factor": "voice", "code": call.code, "challenge_id": challenge["id"]}
    verified = await c.post("/otpgate/verify", json=body, headers=ALICE)
    assert verified.status_code == 200, verified.text
    assert verified.json()["factor"] == "voice"
    secret = await c.get("/secret", headers=ALICE)
    assert secret.json() == {"subject": "alice", "factor": "voice"}


async def test_the_call_speaks_the_requests_language(voice):
    harness, calls = voice
    assert (await start(harness, "voice", **{"Accept-Language": "zh-CN"})).status_code == 200
    assert calls.calls[-1].language == "zh-CN" and "验证码" in calls.calls[-1].text


async def test_voice_serves_no_transaction_nor_enrollment(voice):
    harness, calls = voice
    offer = await harness.client.get(
        "/otpgate/factors/offer", params={"purpose": "transaction"}, headers=ALICE
    )
    assert [f["name"] for f in offer.json()["factors"]] == ["sms"]
    assert calls.calls == []


async def test_budgets_hold_across_sms_and_voice(voice):
    harness, calls = voice
    for factor in ("sms", "voice", "voice", "voice"):
        assert (await start(harness, factor)).status_code == 200
    assert_problem(await start(harness, "voice"), 429, "send_limit_reached")  # 3 calls a day
    assert len(calls.calls) == 3
    assert (await start(harness, "sms")).status_code == 200  # 5 to this phone in 15 min
    assert_problem(await start(harness, "sms"), 429, "send_limit_reached")


async def test_wrong_codes_by_sms_and_voice_lock_out_together(voice):
    harness, calls = voice
    c = harness.client
    texted = (await start(harness, "sms")).json()["challenge"]["id"]
    called = (await start(harness, "voice")).json()["challenge"]["id"]
    wrong = "000000" if calls.calls[-1].code != "000000" else "111111"
    for factor, challenge in (("sms", texted), ("voice", called)):
        body = {"factor": factor, "code": wrong, "challenge_id": challenge}
        assert_problem(
            await c.post("/otpgate/verify", json=body, headers=ALICE), 400, "invalid_code"
        )
    body = {"factor": "voice", "code": wrong, "challenge_id": called}
    assert_problem(await c.post("/otpgate/verify", json=body, headers=ALICE), 429, "locked_out")
    right = {"factor": "voice", "code": calls.calls[-1].code, "challenge_id": called}
    assert_problem(await c.post("/otpgate/verify", json=right, headers=ALICE), 429, "locked_out")
