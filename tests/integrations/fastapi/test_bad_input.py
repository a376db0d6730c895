"""Bad input gets a 4xx problem, never a 500, and never echoes what was sent."""

from __future__ import annotations

import pytest

from .conftest import Harness, bearer

ALICE = bearer("alice")
HUGE = "7" * 10_000
ARABIC_INDIC = "١٢٣٤٥x"  # Arabic-Indic digits and a letter (digits alone are read as ASCII)
SUPERSCRIPT = "¹²³⁴⁵⁶"  # isdigit() says yes, but they are not decimal digits
FOREIGN_ID = "A" * 22 + "." + "B" * 22  # well formed, never issued
TRANSFER = {"id": "t-1", "amount": "250.00", "payee": "DE89370400440532013000"}


def assert_4xx_problem(response, *, echo: str | None = None) -> dict:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "code"} <= set(body)
    if echo:
        assert echo not in response.text
    return body


@pytest.fixture
async def challenge_id(harness: Harness) -> str:
    await harness.add_phone("alice")
    started = await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)
    return str(started.json()["id"])


@pytest.mark.parametrize(
    "code",
    [
        ARABIC_INDIC,
        SUPERSCRIPT,
        HUGE,
        "12345",
        "12 3456",
        "abcdef",
        "",
        None,
        123456,
        [1],
        {"a": 1},
    ],
)
async def test_bad_codes_in_a_body(harness: Harness, challenge_id: str, code: object):
    response = await harness.client.post(
        f"/otpgate/challenges/{challenge_id}/check", json={"code": code}, headers=ALICE
    )
    body = assert_4xx_problem(response, echo=code if isinstance(code, str) and code else None)
    assert body["code"] == "malformed_input"
    # a malformed code does not use up an attempt
    status = await harness.client.get(f"/otpgate/challenges/{challenge_id}", headers=ALICE)
    assert status.json()["attempts_left"] == 5


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/otpgate/challenges", {"phone": HUGE, "purpose": "enroll"}),
        ("/otpgate/challenges", {"phone": "+33 ⁶12345678", "purpose": "enroll"}),
        ("/otpgate/challenges", {"purpose": "transaction"}),
        ("/otpgate/challenges", {"purpose": "enroll", "extra": 1}),
        ("/otpgate/challenges", [1, 2]),
        ("/otpgate/totp/enrollment", {"account": HUGE}),
        ("/otpgate/totp/confirm", {"code": ARABIC_INDIC}),
        ("/otpgate/totp/check", {}),
        ("/otpgate/recovery-codes/check", {"code": HUGE}),
        ("/otpgate/recovery-codes/check", {"code": "ABCD-EFGH-JKM!"}),
        ("/transfers", {"id": "x", "amount": "NaN", "payee": "y"}),
        ("/transfers", {"id": "x", "amount": "1e999999", "payee": "y"}),
    ],
)
async def test_bad_bodies(harness: Harness, path: str, body: object):
    response = await harness.client.post(path, json=body, headers=ALICE)
    assert_4xx_problem(response, echo=HUGE)


@pytest.mark.parametrize(
    "raw", [b"{", b'{"code": "123456"', b"\xff\xfe", b"null", b'"123456"', b"[]", b"{}" * 5000]
)
async def test_malformed_json(harness: Harness, challenge_id: str, raw: bytes):
    response = await harness.client.post(
        f"/otpgate/challenges/{challenge_id}/check",
        content=raw,
        headers={**ALICE, "Content-Type": "application/json"},
    )
    assert assert_4xx_problem(response)["code"] == "malformed_input"


async def test_wrong_content_type(harness: Harness, challenge_id: str):
    response = await harness.client.post(
        f"/otpgate/challenges/{challenge_id}/check",
        content=b"code=123456",
        headers={**ALICE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_4xx_problem(response)


@pytest.mark.parametrize(
    "bad_id", [FOREIGN_ID, "nope", "A" * 200, "%00", "..%2F..%2Fetc", "é" * 30, HUGE]
)
@pytest.mark.parametrize(
    ("method", "suffix", "json"),
    [
        ("GET", "", None),
        ("POST", "/cancel", None),
        ("POST", "/resend", None),
        ("POST", "/check", {"code": "123456"}),
    ],
)
async def test_foreign_or_malformed_challenge_ids(
    harness: Harness, bad_id: str, method: str, suffix: str, json: object
):
    response = await harness.client.request(
        method, f"/otpgate/challenges/{bad_id}{suffix}", json=json, headers=ALICE
    )
    if response.status_code == 404:  # the path itself did not match a route
        return
    body = assert_4xx_problem(response)
    assert body["code"] in {"expired", "malformed_input"}


async def test_expired_challenge(harness: Harness, challenge_id: str):
    harness.clock.advance(301)
    code = harness.code()
    for response in [
        await harness.client.get(f"/otpgate/challenges/{challenge_id}", headers=ALICE),
        await harness.client.post(
            f"/otpgate/challenges/{challenge_id}/check", json={"code": code}, headers=ALICE
        ),
    ]:
        assert assert_4xx_problem(response)["code"] == "expired"


@pytest.mark.parametrize(
    "headers",
    [
        {"OTP-Challenge": FOREIGN_ID, "OTP-Code": "123456"},
        {"OTP-Challenge": HUGE, "OTP-Code": "123456"},
        {"OTP-Challenge": FOREIGN_ID, "OTP-Code": HUGE},
        {"OTP-Challenge": FOREIGN_ID, "OTP-Code": ARABIC_INDIC.encode()},
        {"OTP-Challenge": FOREIGN_ID, "OTP-Code": b"\xff\xfe123456"},
        {"OTP-Challenge": "", "OTP-Code": ""},
        {"OTP-Challenge": FOREIGN_ID},
    ],
)
async def test_bad_confirmation_headers(harness: Harness, headers: dict):
    await harness.add_phone("alice")
    response = await harness.client.post("/transfers", json=TRANSFER, headers={**ALICE, **headers})
    assert_4xx_problem(response, echo=HUGE)
    assert harness.executed == []


@pytest.mark.parametrize("authorization", ["", "Basic x", "Bearer ", HUGE, "Bearer " + "a" * 300])
async def test_bad_credentials(harness: Harness, authorization: str):
    response = await harness.client.get(
        "/otpgate/factors", headers={"Authorization": authorization}
    )
    assert_4xx_problem(response)


async def test_odd_accept_language_is_ignored(harness: Harness):
    for value in ["*", "x" * 5000, "zh-CN;q=abc", "', DROP", "\t"]:
        response = await harness.client.get("/otpgate/factors", headers={"Accept-Language": value})
        assert assert_4xx_problem(response)["code"] == "login_required"
