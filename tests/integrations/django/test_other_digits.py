"""Codes typed on a keyboard with other digits (Arabic-Indic, Persian, Devanagari, fullwidth)
are read as the same code; anything else that is not a code is refused as malformed, and never
counted as a failed attempt."""

from __future__ import annotations

import pytest

from .conftest import make_user, sign_in
from .helpers import totp_now

SCRIPTS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "fullwidth": "０１２３４５６７８９",
}
#: Not codes in any script: a letter, superscripts, a blank inside, an invisible character.
GARBAGE = ["١٢٣٤٥x", "¹²³⁴⁵⁶", "١٢٣ ٤٥٦", "\u200b١٢٣٤٥٦"]


def app_user(gate, clock):
    person = make_user("bob")
    setup = gate.totp.enroll(str(person.pk), "bob")
    gate.totp.confirm(str(person.pk), totp_now(setup.secret, clock()))
    clock.advance(30)
    return setup.secret


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
def test_an_app_code_typed_in_other_digits_signs_in(client, db, gate, clock, script):
    secret = app_user(gate, clock)
    sign_in(client, "bob")
    code = totp_now(secret, clock()).translate(str.maketrans("0123456789", script))
    response = client.post("/2fa/verify/", {"action": "verify", "method": "totp", "code": code})
    assert response.status_code == 302
    assert client.get("/").content == b"PROTECTED home"


def test_garbage_is_malformed_and_never_counted(client, db, gate, clock):
    secret = app_user(gate, clock)
    sign_in(client, "bob")
    for _ in range(3):  # more than the lockout allows, were they counted
        for garbage in GARBAGE:
            data = {"action": "verify", "method": "totp", "code": garbage}
            response = client.post("/2fa/verify/", data)
            assert response.status_code == 400
            assert "Enter the 6-digit code." in response.content.decode()
            api = client.post(
                "/2fa/api/check", {"method": "totp", "code": garbage}, "application/json"
            )
            assert api.status_code == 400 and api.json()["code"] == "malformed_input"
    code = totp_now(secret, clock())
    response = client.post("/2fa/verify/", {"action": "verify", "method": "totp", "code": code})
    assert response.status_code == 302
