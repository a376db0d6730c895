"""Issue 17: the routes that pass a second factor record it through ``gate.verify_and_pass``
(the state written by the check's own store step where the store can): after a right code a
step-up route opens without the ``OTP-Step-Up`` header (the state is in the store); after a
wrong one it stays closed. Memory and Redis stores."""

from __future__ import annotations

import pyotp

from otpgate.core.token_state import state_key

from .conftest import Harness, bearer

STEP_UP = "OTP-Step-Up"


async def app_enrolled(harness: Harness, subject: str = "alice") -> pyotp.TOTP:
    enrollment = await harness.gate.verifier.totp.enroll(subject)
    totp = pyotp.TOTP(enrollment.secret)
    await harness.gate.verifier.totp.confirm(subject, totp.at(harness.clock()))
    harness.clock.advance(60)
    return totp


async def opens(harness: Harness, token: str = "alice") -> bool:
    answer = await harness.client.get("/secret", headers=bearer(token))
    return answer.status_code == 200


async def stored(harness: Harness, token: str = "alice") -> str | None:
    verifier = harness.gate.verifier
    key = state_key(verifier.keyring, "fastapi-session", token)
    found: str | None = await verifier.store.get_state(key)
    return found


async def test_a_wrong_then_right_app_code_on_post_verify(harness: Harness) -> None:
    totp = await app_enrolled(harness)
    wrong = await harness.client.post(
        "/otpgate/verify", json={"factor": "totp", "code": "000000"}, headers=bearer("alice")
    )
    assert wrong.status_code == 400, wrong.text
    assert await stored(harness) is None
    assert not await opens(harness)
    right = await harness.client.post(
        "/otpgate/verify",
        json={"factor": "totp", "code": totp.at(harness.clock())},
        headers=bearer("alice"),
    )
    assert right.status_code == 200, right.text
    assert right.headers[STEP_UP]
    assert await opens(harness)  # the store's state, no header
    assert not await opens(harness, "bob")


async def test_a_right_sms_code_on_post_verify(harness: Harness) -> None:
    await harness.add_phone("alice")
    started = await harness.client.post(
        "/otpgate/factors/start",
        json={"factor": "sms", "purpose": "action"},
        headers=bearer("alice"),
    )
    assert started.status_code in (200, 201), started.text
    body = {
        "factor": "sms",
        "code": harness.code(),
        "purpose": "action",
        "challenge_id": started.json()["challenge"]["id"],
    }
    answer = await harness.client.post("/otpgate/verify", json=body, headers=bearer("alice"))
    assert answer.status_code == 200, answer.text
    assert await opens(harness)


async def test_the_app_and_recovery_routes_record_the_pass(harness: Harness) -> None:
    totp = await app_enrolled(harness)
    wrong = await harness.client.post(
        "/otpgate/totp/check", json={"code": "000000"}, headers=bearer("alice")
    )
    assert wrong.status_code == 400
    assert not await opens(harness)
    right = await harness.client.post(
        "/otpgate/totp/check", json={"code": totp.at(harness.clock())}, headers=bearer("alice")
    )
    assert right.status_code == 200, right.text
    assert await opens(harness)
    [code, *_] = await harness.gate.verifier.recovery.generate("bob")
    await app_enrolled(harness, "bob")
    used = await harness.client.post(
        "/otpgate/recovery-codes/check", json={"code": code}, headers=bearer("bob")
    )
    assert used.status_code == 200, used.text
    assert await opens(harness, "bob")
