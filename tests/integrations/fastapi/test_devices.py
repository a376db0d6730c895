"""Remembered devices over the FastAPI API: ``POST /verify`` with ``remember_device`` issues a
device token, ``POST /device-check`` with the ``OTP-Device`` header skips the sign-in second
step (never step-up), factor changes and revocation void it. Credentials in memory and in
SQLite (the async SQLAlchemy repository)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from otpgate import MemoryStore, OutboxSender, Settings, Verification
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import KEY, PHONE, FakeClock

from .conftest import assert_problem, bearer, token_subject

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ALICE_1, ALICE_2, ALICE_3 = bearer("alice.1"), bearer("alice.2"), bearer("alice.3")


class Api:
    def __init__(self, gate: OtpGate, client: httpx.AsyncClient, outbox: OutboxSender) -> None:
        self.gate, self.client, self.outbox = gate, client, outbox

    async def sign_in_by_sms(self, headers: dict[str, str], **extra: Any) -> httpx.Response:
        start = {"factor": "sms", "purpose": "login"}
        started = await self.client.post("/otpgate/factors/start", json=start, headers=headers)
        assert started.status_code == 200, started.text
        body = {
            "factor": "sms",
            "purpose": "login",
            "code": self.outbox.last_code_for(PHONE),
            "challenge_id": started.json()["challenge"]["id"],
            **extra,
        }
        return await self.client.post("/otpgate/verify", json=body, headers=headers)

    async def check(self, headers: dict[str, str], token: str | None) -> bool:
        extra = {"OTP-Device": token} if token is not None else {}
        answer = await self.client.post("/otpgate/device-check", headers={**headers, **extra})
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["remembered"])


@pytest.fixture(params=["memory", "sqlite"])
async def api(request, tmp_path) -> AsyncIterator[Api]:
    clock, outbox = FakeClock(), OutboxSender()
    url = None if request.param == "memory" else f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    settings = Settings(secret_keys=(KEY,), remember_device=True, remember_device_days=7)
    gate = OtpGate(
        settings,
        store=MemoryStore(clock=clock),
        sender=outbox,
        clock=clock,
        database_url=url,
        current_subject=token_subject,
        single_process=True,
    )
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)

    @app.get("/secret", responses=gate.step_up_responses)
    async def secret(v: Verification = Depends(gate.require_second_factor(300))) -> dict[str, str]:  # noqa: B008
        return {"subject": v.subject}

    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"User-Agent": FIREFOX}
    )
    async with app.router.lifespan_context(app), client:
        await gate.verifier.credentials.add_phone("alice", PHONE)
        yield Api(gate, client, outbox)


async def test_a_remembered_device_skips_the_sign_in_step_only(api: Api, caplog):
    caplog.set_level(logging.DEBUG)
    verified = await api.sign_in_by_sms(ALICE_1, remember_device=True)
    assert verified.status_code == 200, verified.text
    token = verified.json()["device_token"]
    assert isinstance(token, str) and len(token) > 40

    # the next sign-in (a new bearer token of alice) sends it back: no second step
    assert await api.check(ALICE_2, token) is True
    state = await api.gate.load_state("Bearer alice.2")
    assert state.has_passed("alice")
    # ... but step-up still asks
    assert_problem(await api.client.get("/secret", headers=ALICE_2), 401, "fresh_otp_required")
    # no header, a bad header, or someone else's device: nothing skipped
    assert await api.check(ALICE_3, None) is False
    assert await api.check(ALICE_3, "garbage") is False
    await api.gate.verifier.credentials.add_phone("bob", PHONE)
    assert await api.check(bearer("bob"), token) is False
    assert not (await api.gate.load_state("Bearer bob")).has_passed("bob")
    assert token not in caplog.text


async def test_without_remember_device_no_token_is_issued(api: Api):
    verified = await api.sign_in_by_sms(ALICE_1)
    assert verified.status_code == 200 and verified.json()["device_token"] is None


async def test_remember_device_is_only_for_sign_in(api: Api):
    body = {"factor": "sms", "code": "123456", "purpose": "action", "remember_device": True}
    answer = await api.client.post("/otpgate/verify", json=body, headers=ALICE_1)
    assert_problem(answer, 400, "malformed_input")


async def test_a_factor_change_voids_the_device(api: Api):
    token = (await api.sign_in_by_sms(ALICE_1, remember_device=True)).json()["device_token"]
    # alice.1 is fresh: she generates recovery codes (a factor change)
    made = await api.client.post("/otpgate/recovery-codes", headers=ALICE_1)
    assert made.status_code == 201, made.text
    assert await api.check(ALICE_2, token) is False


async def test_devices_are_listed_and_revoked(api: Api):
    first = (await api.sign_in_by_sms(ALICE_1, remember_device=True)).json()["device_token"]
    api.gate.clock.advance(60)
    second = (await api.sign_in_by_sms(ALICE_2, remember_device=True)).json()["device_token"]
    listed = await api.client.get("/otpgate/devices", headers=ALICE_2)
    assert listed.status_code == 200, listed.text
    devices = listed.json()["devices"]
    assert [d["label"] for d in devices] == ["Firefox on Linux"] * 2
    assert devices[0]["place"] == "127.0.0.0/24"  # the network, never the address
    assert first not in listed.text and second not in listed.text
    gone = await api.client.delete(f"/otpgate/devices/{devices[0]['ref']}", headers=ALICE_2)
    assert gone.status_code == 204
    assert await api.check(ALICE_3, second) is False  # the most recent one, revoked
    assert await api.check(ALICE_3, first) is True
    assert (await api.client.delete("/otpgate/devices/all", headers=ALICE_2)).status_code == 204
    assert await api.check(bearer("alice.4"), first) is False
    listed = await api.client.get("/otpgate/devices", headers=ALICE_2)
    assert listed.json() == {"devices": []}


async def test_listing_devices_needs_the_second_step(api: Api):
    assert_problem(
        await api.client.get("/otpgate/devices", headers=ALICE_1), 401, "fresh_otp_required"
    )


async def test_the_password_change_hook_voids_every_device(api: Api):
    token = (await api.sign_in_by_sms(ALICE_1, remember_device=True)).json()["device_token"]
    assert await api.gate.forget_devices("alice") == 1
    assert await api.check(ALICE_2, token) is False


async def test_a_device_expires_after_the_configured_days(api: Api):
    token = (await api.sign_in_by_sms(ALICE_1, remember_device=True)).json()["device_token"]
    api.gate.clock.advance(7 * 86400)
    assert await api.check(ALICE_2, token) is False


async def test_openapi_documents_the_header_and_the_token(api: Api):
    schema = (await api.client.get("/openapi.json")).json()
    check = schema["paths"]["/otpgate/device-check"]["post"]
    assert any(p["name"] == "OTP-Device" and p["in"] == "header" for p in check["parameters"])
    props = schema["components"]["schemas"]["VerificationOut"]["properties"]
    assert "device_token" in props
    verify = schema["components"]["schemas"]["VerifyFactor"]["properties"]
    assert "remember_device" in verify
    assert set(schema["paths"]["/otpgate/devices"]) == {"get"}
    assert set(schema["paths"]["/otpgate/devices/all"]) == {"delete"}


async def test_an_overridden_client_ip_is_what_a_remembered_device_records(api: Api):
    """``POST /verify`` reads the client's address itself, unless the app overrides
    ``gate.client_ip``: then that answers (the hidden twin route), schema unchanged."""
    app: Any = api.client._transport.app  # type: ignore[attr-defined]
    schema_before = (await api.client.get("/openapi.json")).json()

    async def behind_proxy() -> str:
        return "203.0.113.7"

    app.dependency_overrides[api.gate.client_ip] = behind_proxy
    try:
        await api.sign_in_by_sms(ALICE_1, remember_device=True)
    finally:
        app.dependency_overrides.clear()
    api.gate.clock.advance(60)
    await api.sign_in_by_sms(ALICE_2, remember_device=True)
    listed = (await api.client.get("/otpgate/devices", headers=ALICE_2)).json()["devices"]
    assert sorted(d["place"] for d in listed) == ["127.0.0.0/24", "203.0.113.0/24"]
    assert (await api.client.get("/openapi.json")).json() == schema_before
    verify = schema_before["paths"]["/otpgate/verify"]["post"]
    assert verify["operationId"] == "verify_factor_otpgate_verify_post"
