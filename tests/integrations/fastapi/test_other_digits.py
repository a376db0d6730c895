"""Codes and phone numbers typed on a keyboard with other digits (Arabic-Indic, Persian,
Devanagari, fullwidth) are read as the same ones; garbage is refused as malformed (400) and
never counted; a phone number the core cannot read is phone_invalid (422), as in Django and
Flask, not a model's pattern error."""

from __future__ import annotations

import pyotp
import pytest

from otpgate.core.senders import OutboxSender

from .conftest import Harness, bearer

ALICE = bearer("alice")
SCRIPTS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "fullwidth": "０１２３４５６７８９",
}
GARBAGE = ["١٢٣٤٥x", "¹²³⁴⁵⁶", "١٢٣ ٤٥٦", "\u200b١٢٣٤٥٦"]


def other(code: str, script: str) -> str:
    return code.translate(str.maketrans("0123456789", script))


async def enroll_app(harness: Harness) -> pyotp.TOTP:
    enrolled = await harness.client.post("/otpgate/totp/enrollment", json={}, headers=ALICE)
    totp = pyotp.TOTP(enrolled.json()["secret"])
    code = totp.at(harness.clock.now)
    confirmed = await harness.client.post(
        "/otpgate/totp/confirm", json={"code": other(code, SCRIPTS["arabic-indic"])}, headers=ALICE
    )
    assert confirmed.status_code == 200, confirmed.text
    harness.clock.advance(30)
    return totp


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
async def test_app_codes_in_other_digits_are_approved(harness: Harness, script: str):
    totp = await enroll_app(harness)
    checked = await harness.client.post(
        "/otpgate/totp/check",
        json={"code": other(totp.at(harness.clock.now), script)},
        headers=ALICE,
    )
    assert checked.status_code == 200, checked.text
    harness.clock.advance(30)
    verified = await harness.client.post(
        "/otpgate/verify",
        json={"factor": "totp", "code": other(totp.at(harness.clock.now), script)},
        headers=ALICE,
    )
    assert verified.status_code == 200, verified.text


async def test_sms_codes_in_other_digits_are_approved(harness: Harness):
    await harness.add_phone("alice")
    started = await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)
    code = other(harness.code(), SCRIPTS["persian"])
    checked = await harness.client.post(
        f"/otpgate/challenges/{started.json()['id']}/check", json={"code": code}, headers=ALICE
    )
    assert checked.status_code == 200, checked.text


async def test_garbage_is_malformed_and_never_counted(harness: Harness):
    totp = await enroll_app(harness)
    for _ in range(3):  # more than the lockout allows, were they counted
        for garbage in GARBAGE:
            for path, body in [
                ("/otpgate/totp/check", {"code": garbage}),
                ("/otpgate/verify", {"factor": "totp", "code": garbage}),
            ]:
                response = await harness.client.post(path, json=body, headers=ALICE)
                assert response.status_code == 400, (path, garbage, response.text)
                assert response.json()["code"] == "malformed_input"
    checked = await harness.client.post(
        "/otpgate/totp/check", json={"code": totp.at(harness.clock.now)}, headers=ALICE
    )
    assert checked.status_code == 200, checked.text


@pytest.mark.parametrize(
    "phone", ["+٣٣ ٦ ١٢ ٣٤ ٥٦ ٧٨", "＋３３ ６１２３４５６７８", "+۳۳۶۱۲۳۴۵۶۷۸"]
)
async def test_phone_numbers_in_other_digits_are_read(harness: Harness, phone: str):
    started = await harness.client.post(
        "/otpgate/challenges", json={"phone": phone, "purpose": "enroll"}, headers=ALICE
    )
    assert started.status_code == 201, started.text
    assert harness.code()


@pytest.mark.parametrize(
    "phone", ["+33 ⁶¹²³⁴⁵⁶⁷⁸", "+33 6 12 34 56 78\u200b", "+33 6\x0012345678", "Ж"]
)
async def test_unreadable_phone_numbers_are_phone_invalid(
    harness: Harness, outbox: OutboxSender, phone: str
):
    started = await harness.client.post(
        "/otpgate/challenges", json={"phone": phone, "purpose": "enroll"}, headers=ALICE
    )
    assert started.status_code == 422, started.text
    assert started.json()["code"] == "phone_invalid"
    assert outbox.messages == []


async def test_recovery_codes_in_other_digits_and_imported_ones_are_read(harness: Harness):
    """The recovery route's model lets through what the core reads: a code typed with other
    digits, and a django-otp static token imported (8 letters and digits)."""
    await enroll_app(harness)
    made = await harness.client.post("/otpgate/recovery-codes", headers=ALICE)
    assert made.status_code == 201, made.text
    code = next(code for code in made.json()["codes"] if any(c.isdigit() for c in code))
    typed = other(code, SCRIPTS["arabic-indic"])
    used = await harness.client.post(
        "/otpgate/recovery-codes/check", json={"code": typed}, headers=bearer("alice.2")
    )
    assert used.status_code == 200, used.text
    assert used.json()["factor"] == "recovery"

    from otpgate.core.codes import IMPORTED_RECOVERY

    digest = harness.gate.verifier.keyring.digest(IMPORTED_RECOVERY, "alice", "a1b2c3d4")
    await harness.gate.verifier.credentials.replace_recovery_codes("alice", [digest])
    imported = await harness.client.post(
        "/otpgate/recovery-codes/check", json={"code": "A1B2-C3D4"}, headers=bearer("alice.3")
    )
    assert imported.status_code == 200, imported.text
    for garbage in ("ABCD", "ABCD_EFGH_JKMN", "١٢٣٤x"):
        refused = await harness.client.post(
            "/otpgate/recovery-codes/check", json={"code": garbage}, headers=ALICE
        )
        assert refused.status_code in (400, 422), refused.text
        assert refused.json()["code"] in ("malformed_input", "validation_failed")
