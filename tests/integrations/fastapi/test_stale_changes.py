"""Issue 18, class 1: every change of factors needs a fresh second factor, on every route
under the gate's prefix (from the app's routes), whatever the request carries."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from otpgate import Status, Verification
from tests.conftest import OTHER_PHONE, PHONE
from tests.integrations.stale import CHANGING_METHODS, Secrets, async_fingerprint, body_shapes

from .conftest import Harness, assert_problem, bearer

THIRD_PHONE = "+447700900123"
STALE = 301  # seconds past the last second factor: more than step_up_max_age (300)
TOKEN = "alice"
TOTP, ENROLL = "<totp code>", "<enroll code>"  # filled in at each request


@pytest.fixture
def store_kind() -> str:
    return "memory"  # the core's refusal is tested on every store in tests/core


class Stale:
    """Alice with a phone and recovery codes, a pending app set-up and a number being added
    (all made while fresh), and a token that passed its second factor too long ago."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.verifier = harness.gate.verifier

    async def setup(self) -> None:
        await self.harness.add_phone("alice")
        codes = await self.verifier.recovery.generate("alice")
        setup = await self.verifier.totp.enroll("alice")
        self.secrets = Secrets(setup.secret, codes, "")
        await self.new_enrollment()
        self.before = await self.fingerprint()

    async def new_enrollment(self) -> None:
        # a new number each time: one number takes only a few enrollment codes a day
        self.enrollments = getattr(self, "enrollments", 0) + 1
        number = self.enroll_number = f"+447400123{self.enrollments:03d}"
        challenge = await self.verifier.start_sms("alice", number, purpose="enroll")
        self.enroll_id = challenge.id
        self.secrets.enroll_code = self.harness.code(number)

    async def fingerprint(self) -> tuple[object, ...]:
        return await async_fingerprint(self.verifier, "alice", self.secrets.recovery_codes[0])

    async def reset(self) -> None:
        """Back to the stale token, no lock, and a number being added still pending."""
        old = Verification("alice", "action", "sms", self.harness.clock() - STALE)
        await self.harness.gate.passed(f"Bearer {TOKEN}", old)
        await self.verifier.unlock("alice")
        try:
            pending = (await self.verifier.get(self.enroll_id)).status is Status.PENDING
        except Exception:  # expired
            pending = False
        if not pending:
            await self.new_enrollment()

    def fill(self, value: object) -> object:
        if value == TOTP:
            return self.secrets.totp_code(self.harness.clock())
        return self.secrets.enroll_code if value == ENROLL else value

    def watched(self) -> tuple[str, ...]:
        """The numbers a stale token must not get a code sent to."""
        return (self.enroll_number, OTHER_PHONE, THIRD_PHONE)

    async def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        await self.reset()
        sends = [len(self.harness.outbox.messages_to(p)) for p in self.watched()]
        url = path.replace("{challenge_id}", self.enroll_id)
        data = {key: self.fill(value) for key, value in body.items()}
        response = await self.harness.client.request(method, url, json=data, headers=bearer(TOKEN))
        where = f"{method} {path} {body}"
        assert await self.fingerprint() == self.before, f"{where}: the factors changed"
        self.secrets.assert_not_in(response.text, where)
        state = await self.harness.gate.load_state(f"Bearer {TOKEN}")
        assert not state.is_fresh("alice", self.harness.clock(), 300), f"{where}: now fresh"
        after = [len(self.harness.outbox.messages_to(p)) for p in self.watched()]
        assert after == sends, f"{where}: a code was sent for a number being added"
        return response


def routes(harness: Harness) -> list[tuple[str, list[str]]]:
    """Every state-changing route under the gate's prefix, from the app's OpenAPI paths (the
    schema lists included routers' routes in every FastAPI version)."""
    found = []
    for path, operations in harness.app.openapi()["paths"].items():
        if path.startswith(harness.gate.prefix + "/"):
            changing = sorted({m.upper() for m in operations} & set(CHANGING_METHODS))
            if changing:
                found.append((path, changing))
    return found


@pytest.fixture
async def stale(harness: Harness) -> Stale:
    made = Stale(harness)
    await made.setup()
    return made


async def test_no_route_changes_factors_for_a_stale_token(stale: Stale):
    found = routes(stale.harness)
    paths = {path for path, _methods in found}
    assert {"/otpgate/challenges", "/otpgate/challenges/{challenge_id}/check"} <= paths
    assert {"/otpgate/challenges/{challenge_id}/resend", "/otpgate/totp/confirm"} <= paths
    assert {"/otpgate/totp/enrollment", "/otpgate/totp", "/otpgate/recovery-codes"} <= paths
    shapes: list[dict[str, Any]] = list(
        body_shapes([TOTP, ENROLL, "000000", "", "x"], [THIRD_PHONE, OTHER_PHONE])
    )
    shapes += [{"replace": True}, {"account": "alice@example.com", "replace": True}]
    for path, methods in found:
        for method in methods:
            for body in shapes:
                await stale.send(method, path, body)


async def test_stale_token_cannot_confirm_a_pending_app_then_remove_it(stale: Stale):
    """The reported attack: confirming the pending set-up made the token fresh."""
    confirmed = await stale.send("POST", "/otpgate/totp/confirm", {"code": TOTP})
    assert_problem(confirmed, 401, "fresh_otp_required")
    removed = await stale.send("DELETE", "/otpgate/totp", {})
    assert_problem(removed, 401, "fresh_otp_required")


async def test_stale_token_cannot_add_a_number_through_the_generic_check(stale: Stale):
    """The reported hole: checking an ``enroll`` challenge added the number without a guard."""
    path = "/otpgate/challenges/{challenge_id}/check"
    checked = await stale.send("POST", path, {"code": ENROLL})
    assert_problem(checked, 401, "fresh_otp_required")
    assert await stale.verifier.credentials.phones("alice") == [PHONE]
    resent = await stale.send("POST", "/otpgate/challenges/{challenge_id}/resend", {})
    assert_problem(resent, 401, "fresh_otp_required")


async def test_a_fresh_token_finishes_both_set_ups(harness: Harness):
    await harness.add_phone("alice")
    await harness.pass_sms(TOKEN)
    c, headers = harness.client, bearer(TOKEN)
    setup = (await c.post("/otpgate/totp/enrollment", json={}, headers=headers)).json()
    code = pyotp.TOTP(setup["secret"]).at(harness.clock.now)
    confirmed = await c.post("/otpgate/totp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    body = {"purpose": "enroll", "phone": OTHER_PHONE}
    started = (await c.post("/otpgate/challenges", json=body, headers=headers)).json()
    harness.clock.advance(30)
    resent = await c.post(f"/otpgate/challenges/{started['id']}/resend", headers=headers)
    assert resent.status_code == 200, resent.text
    checked = await c.post(
        f"/otpgate/challenges/{started['id']}/check",
        json={"code": harness.code(OTHER_PHONE)},
        headers=headers,
    )
    assert checked.status_code == 200, checked.text
    factors = (await c.get("/otpgate/factors", headers=headers)).json()
    assert len(factors["masked_phones"]) == 2 and factors["totp"] is True
