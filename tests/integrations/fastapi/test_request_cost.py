"""Issue 17: what a request costs, counted (no timing). A step-up route with the
``OTP-Step-Up`` token makes no store call and one without it at most one; otpgate's routes
are not even tried for the app's own requests, whichever order installed them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from otpgate import MemoryStore, OutboxSender, Settings
from otpgate.integrations.fastapi import OtpGate, ProblemRoute
from tests.conftest import KEY, FakeClock

from .conftest import Harness, assert_problem, bearer, make_gate, token_subject

STEP_UP = "OTP-Step-Up"


class CountingStore:
    """Counts every call of the gate's store (whatever it is), by method name."""

    def __init__(self, harness: Harness) -> None:
        self.calls: Counter[str] = Counter()
        store = harness.gate.verifier.store
        for name in dir(store):
            method = getattr(store, name)
            if name.startswith("_") or not callable(method):
                continue
            setattr(store, name, self._counted(name, method))

    def _counted(self, name: str, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted

    def total(self) -> int:
        return sum(self.calls.values())


async def passed_sms(harness: Harness, token: str = "alice") -> str:
    """This token passes a second factor by SMS; the answer's step-up token."""
    started = await harness.client.post(
        "/otpgate/challenges", json={"purpose": "action"}, headers=bearer(token)
    )
    checked = await harness.client.post(
        f"/otpgate/challenges/{started.json()['id']}/check",
        json={"code": harness.code()},
        headers=bearer(token),
    )
    assert checked.status_code == 200, checked.text
    return checked.headers[STEP_UP]


async def test_a_step_up_route_with_the_token_makes_no_store_call(harness: Harness) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    store = CountingStore(harness)
    answer = await harness.client.get("/secret", headers={**bearer("alice"), STEP_UP: step_up})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"subject": "alice", "factor": "sms"}
    assert store.total() == 0, store.calls


async def test_a_step_up_route_without_the_token_makes_one_store_call(harness: Harness) -> None:
    await harness.add_phone("alice")
    await passed_sms(harness)
    store = CountingStore(harness)
    assert (await harness.client.get("/secret", headers=bearer("alice"))).status_code == 200
    assert store.total() == 1, store.calls
    assert_problem(
        await harness.client.get("/secret", headers=bearer("bob")), 401, "fresh_otp_required"
    )
    assert store.total() == 2, store.calls


async def test_every_route_passing_a_factor_answers_a_token(harness: Harness) -> None:
    """The TOTP, recovery and generic verify routes answer one too (checked by using it)."""
    await harness.add_phone("alice")
    await passed_sms(harness)
    codes = (await harness.client.post("/otpgate/recovery-codes", headers=bearer("alice"))).json()
    for path, body in [
        ("/otpgate/recovery-codes/check", {"code": codes["codes"][0]}),
        ("/otpgate/verify", {"factor": "recovery", "code": codes["codes"][1]}),
    ]:
        answer = await harness.client.post(path, json=body, headers=bearer("alice.2"))
        assert answer.status_code == 200, answer.text
        store = CountingStore(harness)
        stepped = {**bearer("alice.2"), STEP_UP: answer.headers[STEP_UP]}
        assert (await harness.client.get("/secret", headers=stepped)).status_code == 200
        assert store.total() == 0


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_the_token_opens_only_for_its_session_and_subject(harness: Harness) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness, "alice")
    # Another token of alice (another session), and bob: it does not open, the store says no.
    for other in ["alice.2", "bob"]:
        answer = await harness.client.get("/secret", headers={**bearer(other), STEP_UP: step_up})
        assert_problem(answer, 401, "fresh_otp_required")
    # Altered, or sealed under another key: refused the same way.
    tampered = step_up[:-4] + ("AAAA" if not step_up.endswith("AAAA") else "BBBB")
    other_gate = OtpGate(Settings(secret_keys=("another-" + KEY,)), database_url=None)
    async with other_gate.lifespan():
        from otpgate import Verification

        forged = await other_gate.passed(
            "Bearer bob", Verification("bob", "action", "sms", harness.clock())
        )
    for token in [tampered, forged, "x" * 5000, "garbage"]:
        answer = await harness.client.get("/secret", headers={**bearer("bob"), STEP_UP: token})
        assert_problem(answer, 401, "fresh_otp_required")


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_the_token_expires_at_the_step_up_max_age(harness: Harness) -> None:
    await harness.add_phone("alice")
    step_up = await passed_sms(harness)
    harness.clock.advance(299)
    stepped = {**bearer("alice"), STEP_UP: step_up}
    store = CountingStore(harness)
    assert (await harness.client.get("/secret", headers=stepped)).status_code == 200
    assert store.total() == 0
    harness.clock.advance(2)
    assert_problem(await harness.client.get("/secret", headers=stepped), 401, "fresh_otp_required")


def _counting_matches(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the route matching otpgate's routes do (``ProblemRoute.matches``: what the
    gate's routes run to match a path; the app's own routes are plain ``APIRoute``)."""
    tried: Counter[str] = Counter()
    matches = APIRoute.matches

    def counting(route: APIRoute, scope: Any) -> Any:
        tried[route.path] += 1
        return matches(route, scope)

    monkeypatch.setattr(ProblemRoute, "matches", counting)
    return tried


@pytest.mark.parametrize("order", ["install first", "install last"])
async def test_the_apps_routes_never_try_otpgates(
    order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    gate = make_gate(MemoryStore(clock=clock), clock, OutboxSender())
    app = FastAPI(lifespan=gate.lifespan)
    if order == "install first":
        gate.install(app)

    @app.get("/page")
    async def page(subject: str = Depends(token_subject)) -> dict[str, str]:
        return {"subject": subject}

    if order == "install last":
        gate.install(app)
    tried = _counting_matches(monkeypatch)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        assert (await client.get("/page", headers=bearer("alice"))).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        assert sum(tried.values()) == 0, tried
        # otpgate's own routes are still found (their regexes are tried then).
        assert (await client.get("/otpgate/factors", headers=bearer("alice"))).status_code == 200
        assert sum(tried.values()) > 0


@pytest.mark.parametrize("store_kind", ["redis"])  # round trips: the Redis store's
async def test_a_right_app_code_costs_one_store_call_which_writes_the_state(
    harness: Harness,
) -> None:
    """The verify POST: the check's one store call, which writes the step-up state too (in
    the same script: ``then_put``); the state is not read first (passing keeps nothing of
    it), and a step-up route without the ``OTP-Step-Up`` header finds it in the store."""
    import pyotp

    enrollment = await harness.gate.verifier.totp.enroll("alice")
    totp = pyotp.TOTP(enrollment.secret)
    await harness.gate.verifier.totp.confirm("alice", totp.at(harness.clock()))
    harness.clock.advance(60)
    store = CountingStore(harness)
    body = {"factor": "totp", "code": totp.at(harness.clock())}
    answer = await harness.client.post("/otpgate/verify", json=body, headers=bearer("alice"))
    assert answer.status_code == 200, answer.text
    assert dict(store.calls) == {"settle_attempt": 1}, store.calls
    stepped = {**bearer("alice"), STEP_UP: answer.headers[STEP_UP]}
    assert (await harness.client.get("/secret", headers=stepped)).status_code == 200
    assert (await harness.client.get("/secret", headers=bearer("alice"))).status_code == 200


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_a_passed_verify_answers_its_documented_json_unframed_and_uncached(
    harness: Harness,
) -> None:
    """The verify POST serializes its answer itself (once): still the documented
    ``VerificationOut`` as JSON, with the step-up token, ``no-store`` and the framing headers
    every otpgate answer carries; its body was read as the JSON the client sent."""
    import pyotp

    enrollment = await harness.gate.verifier.totp.enroll("alice")
    totp = pyotp.TOTP(enrollment.secret)
    await harness.gate.verifier.totp.confirm("alice", totp.at(harness.clock()))
    harness.clock.advance(60)
    body = {"factor": "totp", "code": totp.at(harness.clock()), "purpose": "login"}
    answer = await harness.client.post("/otpgate/verify", json=body, headers=bearer("alice"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert answer.headers[STEP_UP]
    found = answer.json()
    assert set(found) == {"factor", "purpose", "verified_at", "device_token"}
    assert (found["factor"], found["purpose"], found["device_token"]) == ("totp", "login", None)
    assert found["verified_at"].endswith("Z")
    schema = harness.app.openapi()["paths"]["/otpgate/verify"]["post"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"]["$ref"].endswith("/VerificationOut")
