"""A recent SIM swap pauses SMS codes on Flask's pages (``OTPGATE_SIM_SWAP`` names the
check): the second step says so and sends nothing; the authenticator app still serves."""

from __future__ import annotations

import pyotp
import pytest

from otpgate.gateways import SimSwapClient
from tests.camara import api, camara  # noqa: F401
from tests.conftest import PHONE

from .conftest import CSRF, make_app, password_login


@pytest.fixture
def swapped(camara, clock, outbox):  # noqa: F811
    """alice's number (PHONE) had its SIM swapped, says the local CAMARA server."""
    harness = make_app(
        clock,
        outbox,
        OTPGATE_SIM_SWAP_MAX_AGE=72,
        OTPGATE_SIM_SWAP=SimSwapClient(api(camara.server)),
    )
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def test_sms_only_user_is_told_why_and_gets_no_code(swapped):
    client = swapped.client()
    password_login(client)
    response = client.post("/otp/verify/send", data={"csrf_token": CSRF}, follow_redirects=True)
    assert "paused for this account" in response.get_data(as_text=True)
    assert swapped.outbox.messages_to(PHONE) == []


def test_the_app_still_signs_the_user_in(swapped):
    verifier = swapped.verifier
    with swapped.app.app_context():
        setup = verifier.totp.enroll("alice")
        verifier.totp.confirm("alice", pyotp.TOTP(setup.secret).at(int(swapped.clock())))
    swapped.clock.advance(30)
    client = swapped.client()
    password_login(client)
    refused = client.post(
        "/otp/verify/send", data={"csrf_token": CSRF, "method": "sms"}, follow_redirects=True
    )
    assert "paused for this account" in refused.get_data(as_text=True)
    code = pyotp.TOTP(setup.secret).at(int(swapped.clock()))
    done = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": code})
    assert done.status_code == 303
    with client.session_transaction() as session:
        assert session["_user_id"] == "alice"
    assert swapped.outbox.messages_to(PHONE) == []
