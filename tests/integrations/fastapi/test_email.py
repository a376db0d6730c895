"""Email codes in the FastAPI integration through the factor-generic routes, against a real
SMTP server (aiosmtpd) with aiosmtplib, on the in-memory store and Redis: an address added
(``POST /factors/setup`` then ``/factors/confirm``), then the second factor passed by an
emailed code (``/factors/offer``, ``/factors/start``, ``/verify``) and a protected route
served; an outage is a 502 problem and the code is kept; without an email sender the
factor is not offered."""

# The SMTP server fixtures are imported, then requested by name:
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from otpgate import MemoryStore, OutboxSender
from otpgate.core import wiring
from otpgate.gateways.smtp import AsyncSmtpSender
from tests.conftest import FakeClock
from tests.mail import MailServer, mail, mail_server  # noqa: F401

from .conftest import Harness, assert_problem, bearer, make_app, make_gate

ADDRESS = "Dana.Lee@Example.ORG"
NORMAL = "Dana.Lee@example.org"


@pytest.fixture
async def eharness(
    store_kind: str, redis_store_for: Any, mail: MailServer
) -> AsyncIterator[Harness]:
    clock, outbox = FakeClock(), OutboxSender()
    store = redis_store_for(clock) if store_kind == "redis" else MemoryStore(clock=clock)
    env = {
        "OTPGATE_EMAIL_SENDER": "smtp",
        "OTPGATE_SMTP_HOST": "127.0.0.1",
        "OTPGATE_SMTP_PORT": str(mail.port),
        "OTPGATE_SMTP_TLS": "none",
        "OTPGATE_SMTP_FROM": "Acme <no-reply@acme.example>",
    }
    parts = wiring.read(env)  # what OtpGate.from_env reads: an aiosmtplib sender
    email_sender = wiring.build_email_sender(parts.email_sender, parts.smtp, asynchronous=True)
    assert isinstance(email_sender, AsyncSmtpSender)
    gate = make_gate(store, clock, outbox, email_sender=email_sender)
    executed: list[dict[str, Any]] = []
    app = make_app(gate, executed)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    async with app.router.lifespan_context(app), client:
        yield Harness(app, gate, outbox, clock, client, store_kind, executed)


def _code(mail: MailServer) -> str:
    code = mail.last_code_for(NORMAL)
    assert code is not None, "no email was received"
    return code


async def _add_address(h: Harness, mail: MailServer, token: str = "dana") -> None:
    offer = await h.client.get("/otpgate/factors/offer", headers=bearer(token))
    assert "email" in offer.json()["can_add"]
    started = await h.client.post(
        "/otpgate/factors/setup",
        json={"factor": "email", "destination": ADDRESS},
        headers=bearer(token),
    )
    assert started.status_code == 201, started.text
    challenge = started.json()["challenge"]
    assert challenge["masked_phone"] == "D••••@example.org"
    confirmed = await h.client.post(
        "/otpgate/factors/confirm",
        json={"factor": "email", "code": _code(mail), "challenge_id": challenge["id"]},
        headers=bearer(token),
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_add_an_address_then_pass_the_second_factor_by_email(eharness, mail):
    h = eharness
    await _add_address(h, mail)
    factors = await h.client.get("/otpgate/factors", headers=bearer("dana"))
    assert factors.json()["masked_emails"] == ["D••••@example.org"]

    token = "dana.2"  # another session of dana's: it has passed nothing yet
    assert (await h.client.get("/secret", headers=bearer(token))).status_code == 401
    offer = (await h.client.get("/otpgate/factors/offer", headers=bearer(token))).json()
    [option] = offer["factors"]
    assert (option["name"], option["destination"]) == ("email", "D••••@example.org")
    assert option["input"]["autocomplete"] == "one-time-code"
    started = await h.client.post(
        "/otpgate/factors/start", json={"factor": "email"}, headers=bearer(token)
    )
    assert started.status_code == 200, started.text
    challenge_id = started.json()["challenge"]["id"]
    received = mail.to(NORMAL)[-1]
    assert received.code in received.subject and received.code in received.body("plain")
    verified = await h.client.post(
        "/otpgate/verify",
        json={"factor": "email", "code": _code(mail), "challenge_id": challenge_id},
        headers=bearer(token),
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["factor"] == "email"
    secret = await h.client.get("/secret", headers=bearer(token))
    assert secret.status_code == 200 and secret.json()["factor"] == "email"


async def test_an_outage_is_a_502_and_the_code_is_resent_later(eharness, mail):
    h = eharness
    await _add_address(h, mail)
    mail.fail_with = "451 4.3.0 try again later"
    started = await h.client.post(
        "/otpgate/factors/start", json={"factor": "email"}, headers=bearer("dana")
    )
    body = assert_problem(started, 502, "delivery_failed")
    assert NORMAL not in started.text and "example.org" not in started.text
    mail.fail_with = ""
    challenge_id = body["challenge_id"]
    resent = await h.client.post(
        f"/otpgate/challenges/{challenge_id}/resend", headers=bearer("dana")
    )
    assert resent.status_code == 200, resent.text
    verified = await h.client.post(
        "/otpgate/verify",
        json={"factor": "email", "code": _code(mail), "challenge_id": challenge_id},
        headers=bearer("dana"),
    )
    assert verified.status_code == 200, verified.text


async def test_without_an_email_sender_email_is_not_offered(harness):
    offer = await harness.client.get("/otpgate/factors/offer", headers=bearer("erin"))
    assert "email" not in offer.json()["can_add"]
    started = await harness.client.post(
        "/otpgate/factors/setup",
        json={"factor": "email", "destination": ADDRESS},
        headers=bearer("erin"),
    )
    assert_problem(started, 400, "unknown_factor")


async def test_from_env_gives_the_verifier_an_smtp_email_sender(mail):
    from otpgate.integrations.fastapi import OtpGate

    env = {
        "OTPGATE_SECRET_KEYS": "env-key-0123456789abcdef0123456789",
        "OTPGATE_EMAIL_SENDER": "smtp",
        "OTPGATE_SMTP_HOST": "127.0.0.1",
        "OTPGATE_SMTP_PORT": str(mail.port),
        "OTPGATE_SMTP_TLS": "none",
        "OTPGATE_SMTP_FROM": "no-reply@acme.example",
    }
    gate = OtpGate.from_env(env, database_url=None, single_process=True)
    async with gate.lifespan():
        assert isinstance(gate.verifier.email_sender, AsyncSmtpSender)
        assert gate.verifier.email_sender.config.port == mail.port
