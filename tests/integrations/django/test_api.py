"""The JSON API end to end (sync and ASGI clients), CSRF, bad input, limits and outages."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from otpgate import MemoryStore, StorageUnavailable

from .conftest import PASSWORD, PHONE, last_code
from .helpers import totp_now

pytestmark = pytest.mark.django_db


class Api:
    """A CSRF-enforcing client that keeps every answer, to search them for leaks."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.bodies: list[str] = []

    def token(self) -> str:
        return self.client.cookies["csrftoken"].value

    def status(self) -> dict:
        response = self.client.get("/2fa/api/status")
        self.bodies.append(response.content.decode())
        assert response.status_code == 200
        return response.json()

    def post(self, name: str, body: object = None, *, raw: bytes | None = None, csrf=True):
        headers = {"HTTP_X_CSRFTOKEN": self.token()} if csrf else {}
        data = raw if raw is not None else json.dumps(body or {})
        response = self.client.post(
            f"/2fa/api/{name}", data, content_type="application/json", **headers
        )
        self.bodies.append(response.content.decode())
        return response

    def login(self, username: str = "alice") -> None:
        self.client.get("/accounts/login/")
        self.client.post(
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.token()},
        )


def test_api_end_to_end(sms_user, outbox, clock):
    api = Api()
    assert api.status()["state"] == "anonymous"
    assert api.post("check", {"code": "123456"}).status_code == 401
    api.login()
    status = api.status()
    assert status["state"] == "pending"
    assert status["methods"] == ["sms"]
    assert status["challenge"]["masked_phone"] == "+33 ••• ••• 5678"
    assert status["challenge"]["resend_in"] == 30
    # The core's one shape of a challenge (challenge_view), as in every integration.
    assert status["challenge"]["status"] == "pending" and status["challenge"]["purpose"] == "login"
    assert status["challenge"]["expires_in"] == 300
    assert status["challenge"]["bound_to_context"] is False
    # No CSRF header: refused by Django's CSRF protection.
    assert api.post("check", {"code": "123456"}, csrf=False).status_code == 403
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    response = api.post("check", {"method": "sms", "code": wrong})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_code"
    assert response.json()["attempts_left"] == 4
    response = api.post("resend")
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json()["code"] == "resend_cooldown"
    clock.advance(30)
    response = api.post("resend")
    assert response.status_code == 200
    assert response.json()["challenge"]["resend_in"] == 60
    before = api.client.cookies["sessionid"].value
    response = api.post("check", {"method": "sms", "code": code})
    assert response.status_code == 200
    assert response.json() == {"verified": True, "factor": "sms", "next": "/"}
    assert api.client.cookies["sessionid"].value != before
    status = api.status()
    assert status["state"] == "verified" and status["fresh"] is True
    # Enroll an authenticator app and recovery codes (fresh session).
    setup = api.post("enroll", {"factor": "totp"}).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    assert "<svg" in setup["qr_svg"]
    response = api.post("enroll", {"factor": "totp", "code": totp_now(setup["secret"], clock())})
    assert response.json() == {"enrolled": "totp"}
    codes = api.post("enroll", {"factor": "recovery"}).json()["recovery_codes"]
    assert len(codes) == 10
    # Stale session: changes need a step-up.
    clock.advance(301)
    response = api.post("enroll", {"factor": "recovery"})
    assert response.status_code == 401
    assert response.json()["code"] == "fresh_otp_required"
    assert api.status()["fresh"] is False
    clock.advance(30)
    response = api.post("check", {"method": "totp", "code": totp_now(setup["secret"], clock())})
    assert response.status_code == 200
    assert api.post("enroll", {"factor": "sms", "phone": "+4915112345678"}).status_code == 200
    response = api.post("enroll", {"factor": "sms", "code": last_code(outbox, "+4915112345678")})
    assert response.json() == {"enrolled": "sms"}
    assert sms_user.otpgate_phones.count() == 2
    # No answer ever held an SMS code or a full phone number.
    every = "\n".join(api.bodies)
    for message in outbox.messages:
        assert message.code not in every
        assert message.to not in every
    assert PHONE not in every


def test_api_login_with_a_recovery_code_and_lockout(sms_user, gate, outbox):
    codes = gate.recovery.generate(str(sms_user.pk))
    api = Api()
    api.login()
    response = api.post("check", {"method": "recovery", "code": codes[1]})
    assert response.status_code == 200
    other = Api()
    other.login()
    response = other.post("check", {"method": "recovery", "code": codes[1]})
    assert response.status_code == 400
    for _ in range(6):
        response = other.post("check", {"method": "recovery", "code": "AAAA-BBBB-CCCC"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "locked_out"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"code": "x" * 10_000}).encode(),
        json.dumps({"code": "١٢٣٤٥x"}).encode(),
        json.dumps({"code": "¹²³⁴⁵⁶"}).encode(),
        json.dumps({"code": 123456}).encode(),
        json.dumps({"code": None, "method": ["sms"]}).encode(),
        json.dumps({"method": "bogus", "code": "123456"}).encode(),
        json.dumps({"pad": "y" * 20_000}).encode(),
    ],
)
def test_bad_input_is_a_typed_4xx(sms_user, raw):
    api = Api()
    api.login()
    response = api.post("check", raw=raw)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == "malformed_input"


def test_bad_enroll_input(sms_user, outbox):
    api = Api()
    api.login()
    api.post("check", {"code": last_code(outbox)})
    for body in (
        {"factor": "sms", "phone": "x" * 10_000},
        {"factor": "sms", "phone": "+1 800 555 0100"},
        {"factor": "nope"},
        {"factor": "totp", "code": "١٢٣٤٥٦"},
        {"factor": "sms", "code": "123456"},
    ):
        response = api.post("enroll", body)
        assert 400 <= response.status_code < 500, body


def test_recovery_codes_need_a_phone_or_app_first(user):
    api = Api()
    api.login("nofactor")
    response = api.post("enroll", {"factor": "recovery"})
    assert response.status_code == 409 and response.json()["code"] == "primary_factor_required"
    assert response["Content-Type"] == "application/problem+json"


class BrokenStore(MemoryStore):
    """A store whose backend is down."""

    def __getattribute__(self, name: str):
        if name in {
            "spend_budgets",
            "create_challenge",
            "check_code",
            "reserve_send",
            "settle_attempt",
            "get_challenge",
        }:

            def down(*args, **kwargs):
                raise StorageUnavailable()

            return down
        return super().__getattribute__(name)


def test_storage_outage_is_503(sms_user, otpgate_runtime, clock, outbox, gate):
    setup = gate.totp.enroll(str(sms_user.pk))
    gate.totp.confirm(str(sms_user.pk), totp_now(setup.secret, clock()))
    clock.advance(30)
    otpgate_runtime.configure(clock=clock, sender=outbox, store=BrokenStore())
    api = Api()
    api.login()
    response = api.post("start", {"method": "sms"})
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    response = api.post("check", {"method": "totp", "code": totp_now(setup.secret, clock())})
    assert response.status_code == 503
    page = api.client.get("/2fa/verify/?method=totp")
    assert page.status_code == 200
    response = api.client.post(
        "/2fa/verify/",
        {
            "action": "verify",
            "method": "totp",
            "code": "123456",
            "csrfmiddlewaretoken": api.token(),
        },
    )
    assert response.status_code == 503
    assert "unavailable" in response.content.decode()
    assert "_auth_user_id" not in api.client.session


def test_database_outage_is_storage_unavailable(sms_user, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    from otpgate.integrations.django.credentials import OrmCredentials

    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    assert OrmCredentials().phones(str(sms_user.pk))  # the read is compiled and kept
    monkeypatch.setattr(CursorWrapper, "execute", broken)  # every query fails now
    with pytest.raises(StorageUnavailable):
        OrmCredentials().phones(str(sms_user.pk))


@pytest.mark.django_db(transaction=True)
async def test_api_through_the_async_client(async_client, sms_user, outbox):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    status = (await async_client.get("/2fa/api/status")).json()
    assert status["state"] == "unverified"
    response = await async_client.post(
        "/2fa/api/start", {"method": "sms"}, content_type="application/json"
    )
    assert response.status_code == 200
    response = await async_client.post(
        "/2fa/api/check", {"code": last_code(outbox)}, content_type="application/json"
    )
    assert response.status_code == 200
    status = (await async_client.get("/2fa/api/status")).json()
    assert status["state"] == "verified"
    assert (await async_client.get("/secret/")).status_code == 200
    response = await async_client.post("/2fa/api/check", b"{oops", content_type="application/json")
    assert response.status_code == 400


def test_the_api_refuses_a_cross_site_post_even_without_the_csrf_middleware(user, outbox):
    # CsrfViewMiddleware left out (otpgate.W002 warns): the API views check CSRF themselves,
    # like the pages do; a text/plain form post carrying JSON must not add a number.
    from django.conf import settings
    from django.test import override_settings

    middleware = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    with override_settings(MIDDLEWARE=middleware):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        body = json.dumps({"factor": "sms", "phone": PHONE})
        for name in ("enroll", "start", "resend", "check"):
            response = client.post(f"/2fa/api/{name}", body, content_type="text/plain")
            assert response.status_code == 403, name
        assert outbox.messages == []
        page = client.post("/2fa/phone/add/", {"phone": PHONE})
        assert page.status_code == 403 and outbox.messages == []  # the pages did already
