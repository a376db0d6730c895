"""Django REST framework: step-up permissions and transaction confirmation, for token and
session clients, answered as otpgate's problem details (RFC 9457) with RFC 9470 challenges."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.at_rest import walk
from tests.integrations.django import urls_compat
from tests.integrations.django.conftest import PHONE, full_login, last_code
from tests.integrations.django.helpers import totp_now

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.integrations.django.urls_compat")]

PROBLEM = "application/problem+json"


def _token_client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _step_up(client: APIClient, outbox) -> dict:
    started = client.post("/api/2fa/start/", {}, format="json")
    assert started.status_code == 200, started.content
    challenge = started.json()["challenge"]
    assert started.json()["factor"] == "sms" and challenge["masked_phone"].endswith("5678")
    body = {"code": last_code(outbox), "challenge_id": challenge["id"]}
    verified = client.post("/api/2fa/verify/", body, format="json")
    assert verified.status_code == 200, verified.content
    return verified.json()


@pytest.fixture(autouse=True)
def _bank():
    urls_compat.BANK.update(executed=[], fail_next=0)


def test_a_token_without_a_passed_factor_gets_an_rfc9470_problem(sms_user):
    client = _token_client(sms_user)
    refused = client.get("/api/profile/")
    assert refused.status_code == 401
    assert refused["Content-Type"] == PROBLEM and refused["Cache-Control"] == "no-store"
    assert refused["WWW-Authenticate"].startswith('Bearer error="insufficient_user_authentication"')
    body = refused.json()
    assert body["code"] == "otp_required" and body["status"] == 401
    assert body["links"] == {
        "offer": "/api/2fa/factors/?purpose=action",
        "enroll": "/api/2fa/factors/?purpose=enroll",
        "start": "/api/2fa/start/",
        "verify": "/api/2fa/verify/",
    }


def test_a_token_client_passes_step_up_through_the_endpoints(sms_user, outbox, clock, gate):
    client = _token_client(sms_user)
    offer = client.get("/api/2fa/factors/").json()
    assert [f["name"] for f in offer["factors"]] == ["sms"]
    assert offer["verified"] is False and offer["fresh"] is False
    answer = _step_up(client, outbox)
    assert answer == {"verified": True, "factor": "sms", "verified_at": clock()}
    assert client.get("/api/profile/").json() == {"profile": "alice"}
    assert client.get("/api/2fa/factors/").json()["fresh"] is True
    # The store keeps it under a keyed digest of the token, sealed: never the token in clear.
    key = Token.objects.get(user=sms_user).key
    held = list(walk(gate.store))
    assert any(text.startswith("s:") for text in held)
    assert not any(key in text for text in held)
    # The state belongs to that token: a new token of the same user must pass again.
    Token.objects.filter(user=sms_user).delete()
    assert _token_client(sms_user).get("/api/profile/").status_code == 401


def test_a_wrong_code_is_a_problem_and_no_approval(sms_user, outbox):
    client = _token_client(sms_user)
    challenge = client.post("/api/2fa/start/", {}, format="json").json()["challenge"]
    wrong = "000000" if last_code(outbox) != "000000" else "111111"
    refused = client.post(
        "/api/2fa/verify/", {"code": wrong, "challenge_id": challenge["id"]}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_code"
    assert refused.json()["attempts_left"] == 4
    bad = client.post("/api/2fa/verify/", {"code": 123456}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "malformed_input"
    assert client.get("/api/profile/").status_code == 401


def test_fresh_second_factor_holds_its_own_max_age(sms_user, outbox, clock):
    client = _token_client(sms_user)
    _step_up(client, outbox)
    assert client.post("/api/payout/").json() == {"paid": True}
    clock.advance(61)
    stale = client.post("/api/payout/")
    assert stale.status_code == 401 and stale.json()["code"] == "fresh_otp_required"
    assert stale.json()["max_age"] == 60 and 'max_age="60"' in stale["WWW-Authenticate"]
    assert client.get("/api/profile/").status_code == 200  # passed at any time: still fine
    _step_up(client, outbox)
    assert client.post("/api/payout/").status_code == 200


def test_drf_s_own_exception_handler_still_answers_the_challenge(sms_user):
    refused = _token_client(sms_user).post("/api/payout-default/")
    assert refused.status_code == 401
    assert 'error="insufficient_user_authentication"' in refused["WWW-Authenticate"]
    assert 'max_age="60"' in refused["WWW-Authenticate"]
    assert set(refused.json()) == {"detail"}


def test_a_user_without_a_factor_must_enroll_and_anonymous_is_drf_s(user):
    refused = _token_client(user).get("/api/profile/")
    assert refused.status_code == 403 and refused.json()["code"] == "enrollment_required"
    anonymous = APIClient().get("/api/profile/")
    assert anonymous.status_code == 403 and "code" not in anonymous.json()


def test_a_session_client_uses_its_session(client, sms_user, outbox, clock):
    full_login(client, outbox)  # otpgate's second step at sign-in
    api = APIClient()
    api.cookies = client.cookies
    assert api.get("/api/profile/").json() == {"profile": "alice"}
    clock.advance(61)
    assert api.post("/api/payout/").json()["code"] == "fresh_otp_required"
    before = api.cookies["sessionid"].value
    _step_up(api, outbox)
    assert api.cookies["sessionid"].value != before  # the session id rotates
    assert api.post("/api/payout/").json() == {"paid": True}
    # The browser session (same cookie) is fresh too: otpgate's own step-up pages agree.
    client.cookies = api.cookies
    assert client.get("/short/").content == b"PROTECTED short step-up"


# --- transactions --------------------------------------------------------------------------


def _open(client: APIClient, data: dict, url: str = "/api/transfer/", **headers):
    return client.post(url, data, format="json", headers=headers)


def _confirm(client: APIClient, data: dict, token: str, code: str, url: str = "/api/transfer/"):
    return _open(client, data, url, **{"OTP-Challenge": token, "OTP-Code": code})


def test_a_transfer_runs_once_with_a_code_for_its_details(sms_user, outbox):
    client = _token_client(sms_user)
    data = {"amount": "250.00", "to": "DE89 3704"}
    opened = _open(client, data)
    assert opened.status_code == 401 and opened["Content-Type"] == PROBLEM
    body = opened.json()
    assert body["code"] == "confirmation_required" and body["factor"] == "sms"
    assert body["summary"] == "EUR 250.00 to DE89 3704"
    assert opened["OTP-Challenge"] == body["challenge_id"] == body["confirmation"]
    assert body["challenge"]["bound_to_context"] is True
    assert "EUR 250.00 to DE89 3704" in outbox.messages[-1].text
    assert urls_compat.BANK["executed"] == []
    code = last_code(outbox)
    other = _confirm(client, {**data, "amount": "9999.00"}, body["challenge_id"], code)
    assert other.status_code == 409 and other.json()["code"] == "context_mismatch"
    done = _confirm(client, data, body["challenge_id"], code)
    assert done.status_code == 201 and done.json() == {"transferred": "250.00"}
    assert urls_compat.BANK["executed"] == [{"amount": "250.00", "to": "DE89 3704"}]
    again = _confirm(client, data, body["challenge_id"], code)
    assert again.status_code == 409 and again.json()["code"] == "transaction_executed"
    assert again.json()["outcome"] == {"status": 201, "reference": "T1"}
    assert len(urls_compat.BANK["executed"]) == 1


def test_a_failed_execution_is_retried_with_the_same_code(sms_user, outbox):
    client = _token_client(sms_user)
    data = {"amount": "10.00", "to": "FR76 3000"}
    token = _open(client, data).json()["challenge_id"]
    urls_compat.BANK["fail_next"] = 1
    assert _confirm(client, data, token, last_code(outbox)).status_code == 500
    assert urls_compat.BANK["executed"] == []
    assert _confirm(client, data, token, last_code(outbox)).status_code == 201
    assert len(urls_compat.BANK["executed"]) == 1


def test_a_4xx_answer_is_the_view_s_answer(sms_user, outbox):
    client = _token_client(sms_user)
    data = {"amount": "10.00", "to": "nobody"}
    token = _open(client, data).json()["challenge_id"]
    assert _confirm(client, data, token, last_code(outbox)).status_code == 400
    again = _confirm(client, data, token, last_code(outbox))
    assert again.json()["outcome"] == {"status": 400}


def test_bad_confirmations(sms_user, user, outbox):
    client = _token_client(sms_user)
    half = _open(client, {"amount": "1"}, **{"OTP-Code": "123456"})
    assert half.status_code == 400 and half.json()["code"] == "malformed_input"
    nofactor = _open(_token_client(user), {"amount": "1"})
    assert nofactor.status_code == 409 and nofactor.json()["code"] == "factor_setup_required"
    assert nofactor.json()["links"] == {"factors": "/api/2fa/factors/?purpose=enroll"}


def test_an_api_view_function_and_a_session_client(client, sms_user, outbox):
    full_login(client, outbox)
    api = APIClient()
    api.cookies = client.cookies
    data = {"order": "A-17"}
    opened = _open(api, data, "/api/cancel-order/")
    token = opened.json()["challenge_id"]
    # A code for the order's cancellation does not confirm a transfer of the same details.
    elsewhere = _confirm(api, data, token, last_code(outbox))
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "context_mismatch"
    done = _confirm(api, data, token, last_code(outbox), "/api/cancel-order/")
    assert done.status_code == 200 and done.json() == {"canceled": "A-17"}
    assert PHONE not in opened.content.decode()


def test_importing_without_rest_framework_names_the_extra():
    probe = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'rest_framework' or name.startswith('rest_framework.'):\n"
        "            raise ImportError('no DRF here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import otpgate.integrations.django.drf\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert 'pip install "otpgate[drf]"' in result.stdout, result.stderr


def test_an_app_confirms_without_a_message_and_otp_factor_picks_sms(sms_user, outbox, gate, clock):
    subject = str(sms_user.pk)
    secret = gate.totp.enroll(subject).secret
    gate.totp.confirm(subject, totp_now(secret, clock()))
    clock.advance(30)  # each time step is accepted once
    client, data = _token_client(sms_user), {"amount": "5.00", "to": "IT60 X054"}
    sent = len(outbox.messages)
    opened = _open(client, data).json()
    assert opened["factor"] == "totp" and opened["challenge"] is None
    assert len(outbox.messages) == sent  # an app: nothing is sent
    assert [f["name"] for f in opened["factors"]] == ["totp", "sms"]
    done = _confirm(client, data, opened["challenge_id"], totp_now(secret, clock()))
    assert done.status_code == 201
    by_sms = _open(client, {**data, "to": "other"}, **{"OTP-Factor": "sms"}).json()
    assert by_sms["factor"] == "sms" and len(outbox.messages) == sent + 1
