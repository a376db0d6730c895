"""The factor-generic API: ``GET /factors/offer``, ``POST /verify`` and the preferred factor.
The API names no factor: what the core offers (a toy factor registered here too) is listed and
checked through the same two routes."""

from __future__ import annotations

import pyotp

from otpgate import register_factor
from otpgate.core.factors import registry
from tests.factors import PinFactor

from .conftest import Harness, assert_problem, bearer

ALICE = bearer("alice")
ALICE_2 = bearer("alice.2")


async def enroll_app(harness: Harness) -> pyotp.TOTP:
    c = harness.client
    data = (await c.post("/otpgate/totp/enrollment", json={}, headers=ALICE)).json()
    totp = pyotp.TOTP(data["secret"])
    confirm = {"code": totp.at(harness.clock.now)}
    assert (await c.post("/otpgate/totp/confirm", json=confirm, headers=ALICE)).status_code == 200
    harness.clock.advance(30)  # the next code, not a replay of the confirmed one
    return totp


async def test_an_app_user_signs_in_with_the_app_and_no_sms_sent(harness: Harness):
    c = harness.client
    totp = await enroll_app(harness)
    await harness.add_phone("alice")
    offer = await c.get("/otpgate/factors/offer", params={"purpose": "login"}, headers=ALICE_2)
    assert offer.status_code == 200, offer.text
    factors = offer.json()["factors"]
    assert [f["name"] for f in factors] == ["totp", "sms", "recovery"][: len(factors)]
    assert factors[0]["preferred"] and not factors[0]["sends"]
    assert factors[0]["input"]["autocomplete"] == "one-time-code"
    assert factors[1]["destination"].endswith("5678") and factors[1]["sends"]

    assert (await c.get("/secret", headers=ALICE_2)).status_code == 401
    start = {"factor": factors[0]["name"], "purpose": "login"}
    started = await c.post("/otpgate/factors/start", json=start, headers=ALICE_2)
    assert started.status_code == 200 and started.json() == {"factor": "totp", "challenge": None}
    body = {"factor": "totp", "code": totp.at(harness.clock.now), "purpose": "login"}
    verified = await c.post("/otpgate/verify", json=body, headers=ALICE_2)
    assert verified.status_code == 200, verified.text
    assert verified.json()["factor"] == "totp" and verified.json()["purpose"] == "login"
    assert (await c.get("/secret", headers=ALICE_2)).json()["factor"] == "totp"
    assert harness.outbox.messages == []  # no SMS for a user with an app


async def test_verify_refuses_what_the_core_refuses(harness: Harness):
    c = harness.client
    await harness.add_phone("alice")
    bad = {"factor": "totp", "code": "123456"}
    assert_problem(
        await c.post("/otpgate/verify", json=bad, headers=ALICE), 409, "factor_not_enrolled"
    )
    unknown = {"factor": "carrier-pigeon", "code": "123456"}
    assert_problem(
        await c.post("/otpgate/verify", json=unknown, headers=ALICE), 400, "unknown_factor"
    )
    no_challenge = {"factor": "sms", "code": "123456"}
    assert_problem(
        await c.post("/otpgate/verify", json=no_challenge, headers=ALICE), 410, "expired"
    )
    # an SMS started for sign-in does not pass a step-up: the core checks the purpose
    start = {"factor": "sms", "purpose": "login"}
    started = await c.post("/otpgate/factors/start", json=start, headers=ALICE)
    challenge = started.json()["challenge"]
    assert challenge["purpose"] == "login" and challenge["masked_phone"].endswith("5678")
    sms = {"factor": "sms", "code": harness.code(), "challenge_id": challenge["id"]}
    assert_problem(await c.post("/otpgate/verify", json=sms, headers=ALICE), 410, "expired")
    verified = await c.post("/otpgate/verify", json={**sms, "purpose": "login"}, headers=ALICE)
    assert verified.status_code == 200 and verified.json()["factor"] == "sms"


async def test_a_user_without_a_factor_is_told_what_to_add(harness: Harness):
    offer = await harness.client.get("/otpgate/factors/offer", headers=ALICE)
    assert offer.status_code == 200, offer.text
    assert offer.json()["factors"] == []
    assert {"sms", "totp"} <= set(offer.json()["can_add"])
    # the factor listing says the same as Flask's: no codes, nothing preferred (a count, not
    # a "0 unused recovery codes" sentence: a client shows codes beside a factor only)
    listing = (await harness.client.get("/otpgate/factors", headers=ALICE)).json()
    assert (listing["recovery_codes_left"], listing["preferred"]) == (0, None)
    assert not (listing["masked_phones"] or listing["totp"] or listing["passkeys"])
    odd = await harness.client.get("/otpgate/factors/offer?purpose=login&x=1", headers=ALICE)
    assert_problem(odd, 400, "malformed_input")


async def test_the_preferred_factor_can_be_changed_by_a_verified_session(harness: Harness):
    c = harness.client
    await enroll_app(harness)
    await harness.add_phone("alice")
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["preferred"] == "totp"
    # a token that has not passed a second factor may not choose
    refused = await c.put("/otpgate/factors/preferred", json={"factor": "sms"}, headers=ALICE_2)
    assert_problem(refused, 401, "fresh_otp_required")
    chosen = await c.put("/otpgate/factors/preferred", json={"factor": "sms"}, headers=ALICE)
    assert chosen.status_code == 200 and chosen.json() == {"factor": "sms"}
    offer = await c.get("/otpgate/factors/offer", params={"purpose": "login"}, headers=ALICE_2)
    assert offer.json()["factors"][0]["name"] == "sms"
    unknown = await c.put("/otpgate/factors/preferred", json={"factor": "nope"}, headers=ALICE)
    assert_problem(unknown, 400, "unknown_factor")
    reset = await c.put("/otpgate/factors/preferred", json={"factor": None}, headers=ALICE)
    assert reset.json() == {"factor": "totp"}
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["preferred"] == "totp"
    assert harness.outbox.messages == []


async def test_a_recovery_code_is_never_offered_nor_taken_as_the_preferred_factor(
    harness: Harness,
):
    c = harness.client
    await enroll_app(harness)
    await harness.add_phone("alice")
    assert (await c.post("/otpgate/recovery-codes", headers=ALICE)).status_code == 201
    offer = await c.get("/otpgate/factors/offer", params={"purpose": "login"}, headers=ALICE)
    menu = [(f["name"], f["preferable"]) for f in offer.json()["factors"]]
    assert menu == [("totp", True), ("sms", True), ("recovery", False)]  # still offered
    refused = await c.put("/otpgate/factors/preferred", json={"factor": "recovery"}, headers=ALICE)
    assert_problem(refused, 409, "factor_not_preferable")
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["preferred"] == "totp"
    # a choice stored before the rule is ignored: the step still opens on the app
    await harness.gate.verifier.credentials.set_preferred_factor("alice", "recovery")
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["preferred"] == "totp"
    offer = await c.get("/otpgate/factors/offer", params={"purpose": "login"}, headers=ALICE)
    assert offer.json()["factors"][0]["name"] == "totp" and offer.json()["factors"][0]["preferred"]


async def test_a_factor_registered_at_test_time_is_offered_and_usable(harness: Harness):
    c = harness.client
    register_factor(PinFactor())
    try:
        offer = await c.get("/otpgate/factors/offer", params={"purpose": "action"}, headers=ALICE)
        [pin] = offer.json()["factors"]
        assert pin["name"] == "pin" and pin["input"]["length"] == 4 and pin["preferred"]
        wrong = await c.post(
            "/otpgate/verify", json={"factor": "pin", "code": "1111"}, headers=ALICE
        )
        assert_problem(wrong, 400, "invalid_code")
        assert (await c.get("/secret", headers=ALICE)).status_code == 401
        ok = await c.post("/otpgate/verify", json={"factor": "pin", "code": "2468"}, headers=ALICE)
        assert ok.status_code == 200, ok.text
        assert (await c.get("/secret", headers=ALICE)).json()["factor"] == "pin"
        offer = await c.get(
            "/otpgate/factors/offer", params={"purpose": "transaction"}, headers=ALICE
        )
        assert offer.json()["factors"] == []  # the toy cannot confirm a transaction
    finally:
        registry.unregister("pin")
