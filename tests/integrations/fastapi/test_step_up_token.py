"""Issue 17: ``require_second_factor`` reads the ``OTP-Step-Up`` token and the session key
from the request itself and opens a token once; what it lets through is unchanged: a token
that opened before still opens only for its session and subject, and still expires; an app's
own ``session_key`` still decides, without a store round trip for a token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header

from otpgate import MemoryStore, OutboxSender, Verification
from otpgate.integrations.fastapi import OtpGate
from otpgate.integrations.fastapi.step_up import OpenedTokens, issue
from tests.conftest import FakeClock

from .conftest import Harness, assert_problem, bearer, make_gate
from .test_request_cost import STEP_UP, CountingStore, passed_sms

MEMORY = pytest.mark.parametrize("store_kind", ["memory"])


@MEMORY
async def test_a_token_used_before_still_opens_only_for_its_session_and_subject(
    harness: Harness,
) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness, "alice")
    mine = {**bearer("alice"), STEP_UP: step_up}
    assert (await harness.client.get("/secret", headers=mine)).status_code == 200
    for other in ["alice.2", "bob"]:  # the same text, after it opened once for alice
        answer = await harness.client.get("/secret", headers={**bearer(other), STEP_UP: step_up})
        assert_problem(answer, 401, "fresh_otp_required")
    assert (await harness.client.get("/secret", headers=mine)).json()["subject"] == "alice"


@MEMORY
async def test_a_token_used_before_still_expires(harness: Harness) -> None:
    """Opened and kept, it still ends at its expiry (``state_ttl`` after the factor: the
    longest ``max_age`` of the app), and after it the store decides (which has nothing
    either)."""
    gate, app = harness.gate, harness.app
    lenient = gate.require_second_factor(max_age=3600)

    @app.get("/lenient")
    async def lenient_route(verified: Verification = Depends(lenient)) -> dict[str, str]:  # noqa: B008
        return {"subject": verified.subject}

    await harness.add_phone("alice")
    step_up = await passed_sms(harness)  # sealed for state_ttl: 3600 s now
    stepped = {**bearer("alice"), STEP_UP: step_up}
    assert (await harness.client.get("/lenient", headers=stepped)).status_code == 200
    harness.clock.advance(3599)
    store = CountingStore(harness)
    assert (await harness.client.get("/lenient", headers=stepped)).status_code == 200
    assert store.total() == 0
    harness.clock.advance(2)
    assert_problem(await harness.client.get("/lenient", headers=stepped), 401, "fresh_otp_required")


def test_opened_tokens_answer_what_read_answers() -> None:
    """The memory answers each case as opening the token does: subject, session, expiry,
    another keyring (a gate started again with other keys)."""
    from otpgate.core.crypto import Keyring

    keyring, other = Keyring(("k" * 32,)), Keyring(("o" * 32,))
    token = issue(keyring, "Bearer a", Verification("alice", "action", "totp", 100.0), 300)
    opened = OpenedTokens()
    assert opened.read(keyring, token, "Bearer a", "alice", 150.0) is not None
    assert opened.read(keyring, token, "Bearer a", "alice", 399.0) is not None
    assert opened.read(keyring, token, "Bearer a", "bob", 150.0) is None
    assert opened.read(keyring, token, "Bearer b", "alice", 150.0) is None
    assert opened.read(keyring, token, "Bearer a", "alice", 400.0) is None
    assert opened.read(keyring, token, "Bearer a", "alice", 150.0) is not None
    assert opened.read(other, token, "Bearer a", "alice", 150.0) is None
    assert opened.read(keyring, token + "x", "Bearer a", "alice", 150.0) is None
    assert opened.read(keyring, None, "Bearer a", "alice", 150.0) is None


async def session_cookie(session: Annotated[str | None, Header()] = None) -> str:
    """An app's own session key: a ``Session`` header, not the ``Authorization`` one."""
    from otpgate.integrations.fastapi import LoginRequired

    if not session:
        raise LoginRequired()
    return session


@pytest.fixture
async def own_session() -> AsyncIterator[tuple[httpx.AsyncClient, OtpGate]]:
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender(), session_key=session_cookie)
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)
    fresh = gate.require_second_factor()

    @app.get("/secret")
    async def secret(verified: Verification = Depends(fresh)) -> dict[str, str]:  # noqa: B008
        return {"subject": verified.subject}

    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    async with app.router.lifespan_context(app), client:
        yield client, gate


async def test_an_apps_own_session_key_still_decides(
    own_session: tuple[httpx.AsyncClient, OtpGate],
) -> None:
    client, gate = own_session
    passed = Verification("alice", "action", "totp", gate.clock())
    step_up = await gate.passed("s-1", passed)
    headers: dict[str, Any] = {**bearer("alice"), "Session": "s-1"}
    assert (await client.get("/secret", headers=headers)).status_code == 200  # the store's
    assert (await client.get("/secret", headers={**headers, STEP_UP: step_up})).status_code == 200
    for session in ["s-2", None]:  # another session: neither the token nor the state is its
        other = {**bearer("alice"), STEP_UP: step_up, **({"Session": session} if session else {})}
        answer = await client.get("/secret", headers=other)
        assert_problem(answer, 401, "fresh_otp_required" if session else "login_required")


@MEMORY
async def test_overriding_the_default_session_key_is_refused_not_ignored(
    harness: Harness,
) -> None:
    """``gate.session_key`` is a constructor argument: overriding the default one in
    ``dependency_overrides`` would leave the step-up on the ``Authorization`` header while
    the routes use the override, so it fails loudly instead."""
    harness.app.dependency_overrides[harness.gate.session_key] = session_cookie
    with pytest.raises(RuntimeError, match="session_key="):
        await harness.client.get("/secret", headers={**bearer("alice"), "Session": "s-1"})


async def test_the_verify_route_marks_the_apps_own_session(
    own_session: tuple[httpx.AsyncClient, OtpGate],
) -> None:
    """``POST /verify`` records the pass for the app's session key, not the bearer's."""
    import pyotp

    client, gate = own_session
    enrollment = await gate.verifier.totp.enroll("alice")
    totp = pyotp.TOTP(enrollment.secret)
    await gate.verifier.totp.confirm("alice", totp.at(gate.clock()))
    gate.clock.advance(60)  # type: ignore[attr-defined]
    body = {"factor": "totp", "code": totp.at(gate.clock())}
    headers = {**bearer("alice"), "Session": "s-1"}
    assert (await client.post("/otpgate/verify", json=body, headers=headers)).status_code == 200
    assert (await client.get("/secret", headers=headers)).status_code == 200
    other = {**bearer("alice"), "Session": "s-2"}
    assert_problem(await client.get("/secret", headers=other), 401, "fresh_otp_required")
