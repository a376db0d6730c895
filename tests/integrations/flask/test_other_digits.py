"""Codes typed on a keyboard with other digits (Arabic-Indic, Persian, Devanagari, fullwidth)
are read as the same code; anything else that is not a code is refused as malformed ("Enter the
6-digit code.", 400), never as a wrong code, and never counted as a failed attempt."""

from __future__ import annotations

import pyotp
import pytest

from tests.integrations.flask.conftest import CSRF, password_login

from .test_login import enroll_totp

SCRIPTS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "fullwidth": "０１２３４５６７８９",
}
GARBAGE = ["١٢٣٤٥x", "¹²³⁴⁵⁶", "١٢٣ ٤٥٦", "\u200b١٢٣٤٥٦"]
JSON = {"Accept": "application/json", "X-CSRFToken": CSRF}


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
def test_an_app_code_typed_in_other_digits_signs_in(harness, script):
    secret = enroll_totp(harness)
    client = harness.client()
    password_login(client, "carol")
    code = pyotp.TOTP(secret).at(harness.clock.now).translate(str.maketrans("0123456789", script))
    form = {"csrf_token": CSRF, "method": "totp", "code": code}
    assert client.post("/otp/verify", data=form).status_code == 303
    assert client.get("/account").status_code == 200


def test_garbage_is_malformed_and_never_counted(harness):
    secret = enroll_totp(harness)
    client = harness.client()
    password_login(client, "carol")
    for _ in range(3):  # more than the lockout allows, were they counted
        for garbage in GARBAGE:
            form = {"csrf_token": CSRF, "method": "totp", "code": garbage}
            page = client.post("/otp/verify", data=form)
            assert page.status_code == 400
            assert "Enter the 6-digit code." in page.text
            assert "not correct" not in page.text
            api = client.post("/otp/verify", json=form, headers=JSON)
            assert api.status_code == 400 and api.json["code"] == "malformed_input"
    code = pyotp.TOTP(secret).at(harness.clock.now)
    form = {"csrf_token": CSRF, "method": "totp", "code": code}
    assert client.post("/otp/verify", data=form).status_code == 303
