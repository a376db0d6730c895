"""Passkeys over the API: the factor-generic routes serve them (set up, start, verify, the
transaction confirmation), the passkey routes list, rename and remove them; every refusal
is a typed problem, never a 500. Answered by the tests' software authenticator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import FakeClock
from tests.passkey_authenticator import SoftAuthenticator, b64url

from .conftest import SETTINGS, Harness, assert_problem, bearer, make_app, token_subject

ORIGIN = "https://shop.example"
PASSKEY_SETTINGS = SETTINGS.replace(webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))
TRANSFER = {"id": "t-1", "amount": "250.00", "payee": "FR76 3000 6000 0112 3456 7890 189"}


@pytest.fixture
async def api(store_kind: str, redis_store_for: Any) -> AsyncIterator[Harness]:
    clock, outbox = FakeClock(), OutboxSender()
    store = redis_store_for(clock) if store_kind == "redis" else MemoryStore(clock=clock)
    gate = OtpGate(
        PASSKEY_SETTINGS,
        store=store,
        sender=outbox,
        clock=clock,
        database_url=None,
        current_subject=token_subject,
        single_process=True,
    )
    executed: list[dict[str, Any]] = []
    app = make_app(gate, executed)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    async with app.router.lifespan_context(app), client:
        yield Harness(app, gate, outbox, clock, client, store_kind, executed)


async def register(api: Harness, token: str = "alice", name: str = "Laptop") -> SoftAuthenticator:
    setup = await api.client.post(
        "/otpgate/factors/setup", json={"factor": "webauthn", "name": name}, headers=bearer(token)
    )
    assert setup.status_code == 201, setup.text
    body = setup.json()
    assert body["needs_proof"]
    authenticator = SoftAuthenticator(ORIGIN)
    answer = json.loads(authenticator.create(body["challenge"]["browser_options"]))
    done = await api.client.post(
        "/otpgate/verify",
        json={
            "factor": "webauthn",
            "credential": answer,
            "purpose": "enroll",
            "challenge_id": body["challenge"]["id"],
        },
        headers=bearer(token),
    )
    assert done.status_code == 200, done.text
    return authenticator


async def started(api: Harness, token: str = "alice", purpose: str = "action") -> dict[str, Any]:
    response = await api.client.post(
        "/otpgate/factors/start",
        json={"factor": "webauthn", "purpose": purpose},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    challenge: dict[str, Any] = response.json()["challenge"]
    return challenge


async def verify(api: Harness, challenge: dict[str, Any], answer: str, token: str = "alice"):
    return await api.client.post(
        "/otpgate/verify",
        json={
            "factor": "webauthn",
            "credential": json.loads(answer),
            "purpose": challenge["purpose"],
            "challenge_id": challenge["id"],
        },
        headers=bearer(token),
    )


async def test_register_then_step_up_with_the_passkey(api):
    authenticator = await register(api)
    factors = (await api.client.get("/otpgate/factors", headers=bearer("alice"))).json()
    assert factors["passkeys"] == ["Laptop"]
    assert factors["preferred"] == "webauthn"
    offer = await api.client.get("/otpgate/factors/offer?purpose=action", headers=bearer("alice"))
    first = offer.json()["factors"][0]
    assert (first["name"], first["input"]["kind"]) == ("webauthn", "browser")
    token = "alice.2"  # another session: not stepped up yet
    stale = await api.client.get("/secret", headers=bearer(token))
    assert_problem(stale, 401, "fresh_otp_required")
    challenge = await started(api, token)
    assert challenge["browser_options"]["rpId"] == "shop.example"
    passed = await verify(api, challenge, authenticator.get(challenge["browser_options"]), token)
    assert passed.status_code == 200, passed.text
    assert passed.json()["factor"] == "webauthn"
    secret = await api.client.get("/secret", headers=bearer(token))
    assert secret.json() == {"subject": "alice", "factor": "webauthn"}


async def test_a_transaction_is_confirmed_by_a_passkey_bound_to_its_details(api):
    authenticator = await register(api)
    asked = await api.client.post("/transfers", json=TRANSFER, headers=bearer("alice"))
    problem = assert_problem(asked, 401, "confirmation_required")
    assert problem["factor"] == "webauthn"
    assert problem["summary"] == "Pay 250.00"
    assert "browser_options" in problem["detail"]
    options = problem["challenge"]["browser_options"]
    answer = authenticator.get(options)
    headers = {**bearer("alice"), "OTP-Challenge": problem["challenge_id"], "OTP-Code": answer}
    other_details = {**TRANSFER, "amount": "999"}
    other = await api.client.post("/transfers", json=other_details, headers=headers)
    assert_problem(other, 409, "context_mismatch")
    done = await api.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [(tx["id"], str(tx["amount"])) for tx in api.executed] == [("t-1", "250.00")]
    again = await api.client.post("/transfers", json=TRANSFER, headers=headers)
    assert len(api.executed) == 1, again.text  # executed once


async def test_a_wrong_origin_a_replay_and_a_cloned_counter_are_refused(api):
    authenticator = await register(api)
    challenge = await started(api)
    phished = SoftAuthenticator("https://evil.example", key=authenticator.key)
    phished.credential_id = authenticator.credential_id
    refused = await verify(api, challenge, phished.get(challenge["browser_options"]))
    assert assert_problem(refused, 400, "passkey_rejected")["attempts_left"] == 4
    answer = authenticator.get(challenge["browser_options"])
    assert (await verify(api, challenge, answer)).status_code == 200
    assert_problem(await verify(api, challenge, answer), 410, "expired")
    challenge = await started(api)
    cloned = authenticator.get(challenge["browser_options"], sign_count=1)
    assert_problem(await verify(api, challenge, cloned), 400, "sign_count_regression")


@pytest.mark.parametrize(
    "answer",
    [
        {"credential": {"id": "x"}},
        {"credential": {}, "code": "123456"},
        {},
        {"credential": "not an object"},
        {"credential": {"id": "x" * 40_000}},
        {"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": []}},
    ],
)
async def test_malformed_answers_are_problems_not_errors(api, answer):
    await register(api)
    challenge = await started(api)
    body = {"factor": "webauthn", "challenge_id": challenge["id"], **answer}
    response = await api.client.post("/otpgate/verify", json=body, headers=bearer("alice"))
    assert_problem(response, 400, "malformed_input")


async def test_list_rename_and_remove_need_a_fresh_session(api):
    authenticator = await register(api)
    await register(api, name="Phone")  # alice's session is fresh: she just proved one
    listed = (await api.client.get("/otpgate/passkeys", headers=bearer("alice"))).json()
    assert [key["name"] for key in listed["passkeys"]] == ["Laptop", "Phone"]
    assert "public_key" not in listed["passkeys"][0]
    key_id = b64url(authenticator.credential_id)
    stale = await api.client.delete(f"/otpgate/passkeys/{key_id}", headers=bearer("alice.2"))
    assert_problem(stale, 401, "fresh_otp_required")
    renamed = await api.client.put(
        f"/otpgate/passkeys/{key_id}/name", json={"name": "Old laptop"}, headers=bearer("alice")
    )
    assert [key["name"] for key in renamed.json()["passkeys"]] == ["Old laptop", "Phone"]
    removed = await api.client.delete(f"/otpgate/passkeys/{key_id}", headers=bearer("alice"))
    assert removed.status_code == 204
    gone = await api.client.delete(f"/otpgate/passkeys/{key_id}", headers=bearer("alice"))
    assert_problem(gone, 404, "passkey_not_found")
    unknown = await api.client.put(
        f"/otpgate/passkeys/{key_id}/name", json={"name": "Gone"}, headers=bearer("alice")
    )
    assert_problem(unknown, 404, "passkey_not_found")  # renaming and removing answer alike
    factors = (await api.client.get("/otpgate/factors", headers=bearer("alice"))).json()
    assert factors["passkeys"] == ["Phone"]


async def test_adding_one_beside_another_factor_needs_a_fresh_session(api):
    await register(api)
    response = await api.client.post(
        "/otpgate/factors/setup", json={"factor": "webauthn"}, headers=bearer("alice.2")
    )
    assert_problem(response, 401, "fresh_otp_required")


async def test_the_script_is_served_and_the_api_is_described(api):
    script = await api.client.get("/otpgate/assets/otpgate-webauthn.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "parseRequestOptionsFromJSON" in script.text
    schema = (await api.client.get("/openapi.json")).json()
    paths = schema["paths"]
    added = {
        "/otpgate/factors/setup",
        "/otpgate/passkeys",
        "/otpgate/passkeys/{credential_id}",
        "/otpgate/passkeys/{credential_id}/name",
    }
    assert added <= set(paths)
    components = schema["components"]["schemas"]
    assert "credential" in components["VerifyFactor"]["properties"]
    assert "browser_options" in components["ChallengeOut"]["properties"]


async def test_a_site_without_passkeys_does_not_offer_them(harness):
    response = await harness.client.post(
        "/otpgate/factors/setup", json={"factor": "webauthn"}, headers=bearer("alice")
    )
    assert_problem(response, 403, "factor_not_allowed")


async def test_the_generic_setup_serves_the_other_factors_too(harness):
    sms = await harness.client.post(
        "/otpgate/factors/setup",
        json={"factor": "sms", "destination": "+33 6 12 34 56 78"},
        headers=bearer("alice"),
    )
    assert sms.status_code == 201, sms.text
    challenge = sms.json()["challenge"]
    assert challenge["masked_phone"] == "+33 ••• ••• 5678"
    assert challenge["browser_options"] is None
    done = await harness.client.post(
        "/otpgate/verify",
        json={
            "factor": "sms",
            "code": harness.code(),
            "purpose": "enroll",
            "challenge_id": challenge["id"],
        },
        headers=bearer("alice"),
    )
    assert done.status_code == 200, done.text
    app = await harness.client.post(
        "/otpgate/factors/setup", json={"factor": "totp"}, headers=bearer("alice")
    )
    assert app.status_code == 201, app.text
    assert {"secret", "otpauth_uri", "qr_svg"} <= set(app.json()["shown"])
