"""No dead ends in the API: a problem saying a second factor is missing names the routes
that offer, add, start and pass one (documented in OpenAPI), and a factor registered in the
core (the toy PIN) counts as a second factor."""

from __future__ import annotations

from otpgate import register_factor
from otpgate.core.factors import registry
from tests.factors import PinFactor

from .conftest import Harness, assert_problem, bearer

ALICE = bearer("alice")
LINKS = {
    "offer": "/otpgate/factors/offer?purpose=action",
    "enroll": "/otpgate/factors/offer?purpose=enroll",
    "start": "/otpgate/factors/start",
    "verify": "/otpgate/verify",
}


async def test_a_step_up_problem_names_where_to_get_or_add_a_factor(harness: Harness):
    c = harness.client
    body = assert_problem(await c.get("/secret", headers=ALICE), 401, "fresh_otp_required")
    assert body["links"] == LINKS
    offer = await c.get(body["links"]["offer"], headers=ALICE)  # alice has no factor yet
    assert offer.status_code == 200 and offer.json()["factors"] == []
    assert {"sms", "totp"} <= set(offer.json()["can_add"])
    addable = await c.get(body["links"]["enroll"], headers=ALICE)
    assert {"sms", "totp"} <= {f["name"] for f in addable.json()["factors"]}
    # with a phone, the links lead through the step-up
    await harness.add_phone("alice")
    start = {"factor": "sms", "purpose": "action"}
    started = await c.post(body["links"]["start"], json=start, headers=ALICE)
    code = {
        "factor": "sms",
        "code": harness.code(),
        "challenge_id": started.json()["challenge"]["id"],
    }
    assert (await c.post(body["links"]["verify"], json=code, headers=ALICE)).status_code == 200
    assert (await c.get("/secret", headers=ALICE)).status_code == 200


async def test_a_factor_the_subject_lacks_is_answered_with_where_to_add_one(harness: Harness):
    refused = await harness.client.post(
        "/otpgate/verify", json={"factor": "totp", "code": "123456"}, headers=ALICE
    )
    assert assert_problem(refused, 409, "factor_not_enrolled")["links"] == LINKS
    other = await harness.client.post("/otpgate/verify", json={"factor": "x", "code": "1"})
    assert "links" not in other.json()  # only a missing factor links on


async def test_the_links_are_documented_in_openapi(harness: Harness):
    schema = (await harness.client.get("/openapi.json")).json()
    problem = schema["paths"]["/secret"]["get"]["responses"]["401"]["content"]
    links = problem["application/problem+json"]["schema"]["properties"]["links"]
    assert "enroll" in str(links) and "verify" in str(links)


async def test_a_subject_whose_only_factor_is_a_registered_one_counts_as_enrolled(
    harness: Harness,
):
    c = harness.client
    register_factor(PinFactor())
    try:
        # no first-factor set-up without a second factor: the PIN is one
        refused = await c.post("/otpgate/totp/enrollment", json={}, headers=ALICE)
        assert_problem(refused, 401, "fresh_otp_required")
        passed = await c.post(
            "/otpgate/verify", json={"factor": "pin", "code": "2468"}, headers=ALICE
        )
        assert passed.status_code == 200
        added = await c.post("/otpgate/totp/enrollment", json={}, headers=ALICE)
        assert added.status_code == 201, added.text
    finally:
        registry.unregister("pin")
