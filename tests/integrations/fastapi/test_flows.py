"""Every flow of the router and the dependencies, in-process, on the memory store and Redis."""

from __future__ import annotations

import pyotp

from otpgate import DeliveryFailed
from tests.conftest import OTHER_PHONE

from .conftest import Harness, assert_problem, bearer, wrong_code

ALICE = bearer("alice")


async def test_no_subject_is_401_login_required(harness: Harness):
    response = await harness.client.get("/otpgate/factors")
    assert_problem(response, 401, "login_required")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_enroll_a_phone_then_list_factors(harness: Harness):
    c = harness.client
    started = await c.post(
        "/otpgate/challenges",
        json={"purpose": "enroll", "phone": "+33 6 12 34 56 78"},
        headers=ALICE,
    )
    assert started.status_code == 201, started.text
    challenge = started.json()
    assert challenge["purpose"] == "enroll"
    assert challenge["status"] == "pending"
    assert challenge["masked_phone"].endswith("5678")
    assert "612345678" not in started.text  # never the full number
    assert harness.code() not in started.text  # never the code

    assert (challenge["expires_in"], challenge["resend_in"]) == (300, 30)
    harness.clock.advance(10)
    status = await c.get(f"/otpgate/challenges/{challenge['id']}", headers=ALICE)
    assert status.json()["attempts_left"] == 5
    assert (status.json()["expires_in"], status.json()["resend_in"]) == (290, 20)

    checked = await c.post(
        f"/otpgate/challenges/{challenge['id']}/check", json={"code": harness.code()}, headers=ALICE
    )
    assert checked.status_code == 200
    assert checked.json()["factor"] == "sms"
    assert checked.json()["verified_at"].startswith("2027-01-15")

    factors = await c.get("/otpgate/factors", headers=ALICE)
    assert factors.json() == {
        "masked_phones": [challenge["masked_phone"]],
        "masked_emails": [],
        "totp": False,
        "recovery_codes_left": 0,
        "passkeys": [],
        "preferred": "sms",
    }
    # the challenge is used up: one answer for used, expired or unknown
    again = await c.post(
        f"/otpgate/challenges/{challenge['id']}/check", json={"code": harness.code()}, headers=ALICE
    )
    assert_problem(again, 410, "expired")


async def test_adding_a_second_phone_needs_a_fresh_second_factor(harness: Harness):
    await harness.add_phone("alice")
    body = {"purpose": "enroll", "phone": OTHER_PHONE}
    refused = await harness.client.post("/otpgate/challenges", json=body, headers=ALICE)
    assert_problem(refused, 401, "fresh_otp_required")
    await harness.pass_sms("alice")
    allowed = await harness.client.post("/otpgate/challenges", json=body, headers=ALICE)
    assert allowed.status_code == 201


async def test_step_up(harness: Harness):
    await harness.add_phone("alice")
    refused = await harness.client.get("/secret", headers=ALICE)
    body = assert_problem(refused, 401, "fresh_otp_required")
    assert body["max_age"] == 300
    assert refused.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="Confirm it is you again to continue.", max_age="300"'
    )
    await harness.pass_sms("alice")
    allowed = await harness.client.get("/secret", headers=ALICE)
    assert allowed.json() == {"subject": "alice", "factor": "sms"}
    # another token of the same subject is another session: not stepped up
    assert (await harness.client.get("/secret", headers=bearer("alice.2"))).status_code == 401
    # freshness runs out
    harness.clock.advance(301)
    assert (await harness.client.get("/secret", headers=ALICE)).status_code == 401


async def test_authenticator_app_and_recovery_codes(harness: Harness):
    c = harness.client
    enrolled = await c.post(
        "/otpgate/totp/enrollment", json={"account": "alice@example.com"}, headers=ALICE
    )
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.headers["cache-control"] == "no-store"  # a secret, shown once
    data = enrolled.json()
    assert data["uri"].startswith("otpauth://totp/")
    assert data["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(data["secret"])

    wrong = await c.post("/otpgate/totp/confirm", json={"code": "000000"}, headers=ALICE)
    if totp.at(harness.clock.now) != "000000":
        assert_problem(wrong, 400, "invalid_code")
    confirmed = await c.post(
        "/otpgate/totp/confirm", json={"code": totp.at(harness.clock.now)}, headers=ALICE
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["factor"] == "totp"
    assert (await c.get("/secret", headers=ALICE)).json()["factor"] == "totp"

    # a second token must step up before changing factors; the app's code passes it
    other = bearer("alice.2")
    refused = await c.post("/otpgate/recovery-codes", headers=other)
    assert_problem(refused, 401, "fresh_otp_required")
    harness.clock.advance(30)
    checked = await c.post(
        "/otpgate/totp/check", json={"code": totp.at(harness.clock.now)}, headers=other
    )
    assert checked.status_code == 200, checked.text
    replay = await c.post(
        "/otpgate/totp/check", json={"code": totp.at(harness.clock.now)}, headers=other
    )
    assert_problem(replay, 400, "replayed")

    generated = await c.post("/otpgate/recovery-codes", headers=other)
    assert generated.status_code == 201
    assert generated.headers["cache-control"] == "no-store"
    codes = generated.json()["codes"]
    assert len(codes) == 10
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["recovery_codes_left"] == 10
    used = await c.post(
        "/otpgate/recovery-codes/check", json={"code": codes[0].lower()}, headers=bearer("alice.3")
    )
    assert used.json()["factor"] == "recovery"
    reused = await c.post("/otpgate/recovery-codes/check", json={"code": codes[0]}, headers=ALICE)
    assert_problem(reused, 400, "invalid_code")

    again = await c.post("/otpgate/totp/enrollment", json={}, headers=ALICE)
    assert_problem(again, 409, "factor_already_enrolled")
    removed = await c.delete("/otpgate/totp", headers=ALICE)
    assert removed.status_code == 204
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["totp"] is False


async def test_resend_cooldown_status_and_cancel(harness: Harness):
    await harness.add_phone("alice")
    c = harness.client
    started = (await c.post("/otpgate/challenges", json={}, headers=ALICE)).json()
    first = harness.code()
    path = f"/otpgate/challenges/{started['id']}"
    early = await c.post(f"{path}/resend", headers=ALICE)
    body = assert_problem(early, 429, "resend_cooldown")
    assert early.headers["retry-after"] == str(body["retry_after"]) == "30"
    harness.clock.advance(30)
    resent = await c.post(f"{path}/resend", headers=ALICE)
    assert resent.status_code == 200
    assert resent.json()["sends_left"] == 3
    assert harness.code() == first  # the same code while it is valid
    assert len(harness.outbox.messages) == 2

    assert_problem(await c.get(path, headers=bearer("bob")), 410, "expired")  # not bob's
    assert_problem(await c.post(f"{path}/cancel", headers=bearer("bob")), 410, "expired")
    assert (await c.post(f"{path}/cancel", headers=ALICE)).status_code == 204
    gone = await c.post(f"{path}/check", json={"code": first}, headers=ALICE)
    assert_problem(gone, 410, "expired")


async def test_wrong_codes_then_lockout(harness: Harness):
    await harness.add_phone("alice")
    c = harness.client
    for attempt in range(5):
        started = (await c.post("/otpgate/challenges", json={}, headers=ALICE)).json()
        response = await c.post(
            f"/otpgate/challenges/{started['id']}/check",
            json={"code": wrong_code(harness)},
            headers=ALICE,
        )
        if attempt < 4:
            assert assert_problem(response, 400, "invalid_code")["attempts_left"] == 4
    locked = assert_problem(response, 429, "locked_out")
    assert response.headers["retry-after"] == str(locked["retry_after"])


async def test_sms_for_an_unverified_number_or_without_one(harness: Harness):
    none = await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)
    assert_problem(none, 409, "factor_not_enrolled")
    await harness.add_phone("alice")
    other = await harness.client.post(
        "/otpgate/challenges", json={"phone": OTHER_PHONE}, headers=ALICE
    )
    assert_problem(other, 409, "factor_not_enrolled")
    premium = await harness.client.post(
        "/otpgate/challenges",
        json={"purpose": "enroll", "phone": "+1 900 555 0100"},
        headers=bearer("bob"),
    )
    assert premium.status_code == 422
    assert premium.json()["code"].startswith("phone_")


async def test_delivery_failure_is_502_with_the_challenge_to_resend(harness: Harness):
    await harness.add_phone("alice")
    harness.outbox.failing = DeliveryFailed()
    failed = await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)
    body = assert_problem(failed, 502, "delivery_failed")
    harness.outbox.failing = None
    resent = await harness.client.post(
        f"/otpgate/challenges/{body['challenge_id']}/resend", headers=ALICE
    )
    assert resent.status_code == 200, resent.text


async def test_titles_follow_accept_language(harness: Harness):
    response = await harness.client.get(
        "/otpgate/factors", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert response.json()["title"] == "请登录后继续。"
    await harness.add_phone("alice")
    started = (await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)).json()
    wrong = await harness.client.post(
        f"/otpgate/challenges/{started['id']}/check",
        json={"code": wrong_code(harness)},
        headers={**ALICE, "Accept-Language": "zh"},
    )
    assert wrong.json()["title"] == "验证码不正确。"
