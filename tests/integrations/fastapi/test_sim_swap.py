"""A recent SIM swap pauses SMS codes in the FastAPI integration (``OtpGate(sim_swap=)``):
starting an SMS answers 409 ``sms_temporarily_unavailable`` and sends nothing; the
authenticator app still passes step-up."""

from __future__ import annotations

import httpx
import pyotp

from otpgate import MemoryStore, OutboxSender
from otpgate.gateways import AsyncSimSwapClient
from tests.camara import KEPT, api, camara  # noqa: F401
from tests.conftest import PHONE, FakeClock

from .conftest import SETTINGS, assert_problem, bearer, make_app, make_gate


async def test_no_sms_to_a_swapped_number_and_the_app_still_serves(camara):  # noqa: F811
    clock, outbox = FakeClock(), OutboxSender()
    gate = make_gate(
        MemoryStore(clock=clock),
        clock,
        outbox,
        sim_swap=AsyncSimSwapClient(api(camara.server)),
    )
    gate.settings = SETTINGS.replace(sim_swap_max_age=72)
    app = make_app(gate, [])
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        verifier = gate.verifier
        await verifier.credentials.add_phone("alice", PHONE)
        await verifier.credentials.add_phone("bob", KEPT)
        refused = await client.post(
            "/otpgate/challenges", json={"purpose": "action"}, headers=bearer("alice")
        )
        assert_problem(refused, 409, "sms_temporarily_unavailable")
        assert outbox.messages_to(PHONE) == []
        started = await client.post(
            "/otpgate/challenges", json={"purpose": "action"}, headers=bearer("bob")
        )
        assert started.status_code == 201, started.text
        assert outbox.last_code_for(KEPT) is not None
        setup = await verifier.totp.enroll("alice")
        await verifier.totp.confirm("alice", pyotp.TOTP(setup.secret).at(int(clock())))
        clock.advance(30)
        code = pyotp.TOTP(setup.secret).at(int(clock()))
        passed = await client.post(
            "/otpgate/totp/check", json={"code": code}, headers=bearer("alice")
        )
        assert passed.status_code == 200, passed.text
