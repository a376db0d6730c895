"""``POST /recovery-codes`` answers the codes as a text file to keep when the client asks for
``Accept: text/plain``: the same file the Django and Flask pages offer to download."""

from __future__ import annotations

from datetime import datetime, timezone

from .conftest import Harness, assert_problem, bearer

ALICE = bearer("alice")


async def test_accept_text_plain_answers_the_codes_as_a_file(harness: Harness):
    c = harness.client
    await harness.add_phone("alice")
    await harness.pass_sms("alice")
    answer = await c.post(
        "/otpgate/recovery-codes",
        params={"account": "alice@example.com"},
        headers={**ALICE, "Accept": "text/plain", "Accept-Language": "fr-CA, en;q=0.5"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="otpgate-recovery-codes.txt"'
    )
    assert answer.headers["cache-control"] == "no-store"  # shown once, never cached
    day = datetime.fromtimestamp(harness.clock.now, tz=timezone.utc).date().isoformat()
    lines = answer.text.split("\n")
    assert lines[:4] == [
        "Codes de récupération otpgate",
        "Compte : alice@example.com",
        f"Créés le : {day}",
        "",
    ]
    codes = lines[4:14]
    assert len(codes) == 10 and lines[14] == ""
    assert lines[15].startswith("Chaque code ne sert qu'une fois")
    used = await c.post("/otpgate/recovery-codes/check", json={"code": codes[3]}, headers=ALICE)
    assert used.status_code == 200, used.text  # the file's codes are the subject's codes
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["recovery_codes_left"] == 9


async def test_json_stays_the_default_and_the_account_defaults_to_the_subject(harness: Harness):
    c = harness.client
    await harness.add_phone("alice")
    await harness.pass_sms("alice")
    answer = await c.post("/otpgate/recovery-codes", headers={**ALICE, "Accept": "*/*"})
    assert answer.status_code == 201
    assert len(answer.json()["codes"]) == 10
    text = await c.post("/otpgate/recovery-codes", headers={**ALICE, "Accept": "text/plain"})
    assert text.text.split("\n")[1] == "Account: alice"
    too_long = await c.post("/otpgate/recovery-codes", params={"account": "a" * 129}, headers=ALICE)
    assert_problem(too_long, 400, "malformed_input")


async def test_text_plain_is_no_way_around_a_fresh_second_factor(harness: Harness):
    c = harness.client
    await harness.add_phone("alice")
    await harness.pass_sms("alice")
    other = await c.post(
        "/otpgate/recovery-codes", headers={**bearer("alice.2"), "Accept": "text/plain"}
    )
    body = assert_problem(other, 401, "fresh_otp_required")
    assert "codes" not in body and "Account" not in other.text  # a problem, no file
    assert (await c.get("/otpgate/factors", headers=ALICE)).json()["recovery_codes_left"] == 0


async def test_the_openapi_document_shows_both_answers(harness: Harness):
    spec = (await harness.client.get("/openapi.json")).json()
    answer = spec["paths"]["/otpgate/recovery-codes"]["post"]
    assert set(answer["responses"]["201"]["content"]) == {"application/json", "text/plain"}
    assert "text/plain" in answer["description"]
    assert any(p["name"] == "account" for p in answer["parameters"])
