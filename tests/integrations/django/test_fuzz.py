"""Malformed bodies and odd methods on every URL of ``otpgate.integrations.django.urls``.

Whatever arrives, as an anonymous, a pending-second-step or a signed-in session (sync and
ASGI clients): never a 5xx; a body otpgate cannot read safely is a 400 ``malformed_input``
before any view runs; an answer that refuses changes nothing (no SMS sent, no factor
changed); HEAD and OPTIONS never take a state-changing branch, whatever body they carry.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import AsyncClient, Client
from django.urls import reverse

from tests.fuzz import FORM, JSON, ODD, REFUSED, Body

from .conftest import OTHER_PHONE, full_login, make_user, sign_in

pytestmark = pytest.mark.django_db

NEW_PHONE = "+33698765432"


def otpgate_urls(alice: Any) -> list[str]:
    """The path of every pattern of otpgate's URLconf (a phone of alice's for ``<pk>``)."""
    from otpgate.integrations.django.models import VerifiedPhone
    from otpgate.integrations.django.urls import urlpatterns

    pk = VerifiedPhone.objects.filter(user_id=str(alice.pk)).first().pk
    urls = []
    for pattern in urlpatterns:
        arguments = {name: pk for name in pattern.pattern.converters}
        urls.append(reverse(f"otpgate:{pattern.name}", kwargs=arguments or None))
    assert len(urls) >= 13
    return urls


@pytest.fixture
def world(sms_user: Any, gate: Any, outbox: Any) -> dict[str, Any]:
    """Alice (phone, app-less) and carol (two phones) with factors, bob without; and one
    client per kind of session."""
    carol = make_user("carol")
    gate.credentials.add_phone(str(carol.pk), OTHER_PHONE)
    make_user("bob")
    pending, signed_in, no_factor = Client(), Client(), Client()
    sign_in(pending, "alice")
    full_login(signed_in, outbox)
    sign_in(no_factor, "bob")
    return {
        "clients": {
            "anonymous": Client(),
            "pending": pending,
            "signed in": signed_in,
            "no factor": no_factor,
        },
        "urls": otpgate_urls(sms_user),
    }


def snapshot(outbox: Any) -> tuple[object, ...]:
    """What a refused request must leave alone: the messages sent and everyone's factors
    (every row of otpgate's three tables: phones, authenticator apps, recovery codes)."""
    from otpgate.integrations.django.models import RecoveryCode, TotpDevice, VerifiedPhone

    return (
        len(outbox.messages),
        sorted(VerifiedPhone.objects.values_list("user_id", "e164")),
        sorted(TotpDevice.objects.values_list("pk", "sealed_secret", "confirmed")),
        sorted(RecoveryCode.objects.values_list("digest", "used_at")),
    )


def send(client: Client, method: str, url: str, body: Body) -> Any:
    raw, content_type = body
    return client.generic(method, url, raw, content_type=content_type or "")


@pytest.mark.parametrize("name", list(REFUSED))
def test_bodies_otpgate_cannot_read_are_400_everywhere(world, outbox, name):
    before = snapshot(outbox)
    for session, client in world["clients"].items():
        for url in world["urls"]:
            for method in ("GET", "POST"):
                response = send(client, method, url, REFUSED[name])
                where = f"{name}: {session} {method} {url} -> {response.status_code}"
                assert response.status_code == 400, where
                if REFUSED[name][1] == JSON:
                    assert response.json()["code"] == "malformed_input", where
        assert snapshot(outbox) == before, f"{name}: {session}"


@pytest.mark.parametrize("name", list(ODD))
def test_odd_values_never_a_5xx_and_refusals_change_nothing(world, outbox, name):
    for session, client in world["clients"].items():
        for url in world["urls"]:
            before = snapshot(outbox)
            response = send(client, "POST", url, ODD[name])
            where = f"{name}: {session} POST {url} -> {response.status_code}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert snapshot(outbox) == before, where


STATE_CHANGING = {
    "phone": NEW_PHONE,
    "action": "start",
    "method": "sms",
    "factor": "sms",
    "code": "123456",
}
STATE_CHANGING_BODIES: list[Body] = [
    (urlencode(STATE_CHANGING).encode(), FORM),
    (json.dumps(STATE_CHANGING).encode(), JSON),
]


@pytest.mark.parametrize("verb", ["HEAD", "OPTIONS", "PUT", "DELETE"])
@pytest.mark.parametrize("body", STATE_CHANGING_BODIES, ids=["form", "json"])
def test_other_methods_with_a_body_change_nothing(world, outbox, verb, body):
    """Only POST takes a branch that sends or changes something, on every otpgate URL."""
    for client in world["clients"].values():
        client.post("/2fa/verify/", {"action": "send"})  # a challenge to guess at
    for session, client in world["clients"].items():
        for url in world["urls"]:
            before = snapshot(outbox)
            response = send(client, verb, url, body)
            where = f"{session} {verb} {url} -> {response.status_code}"
            assert response.status_code < 500, where
            assert snapshot(outbox) == before, where
    status = world["clients"]["pending"].get("/2fa/api/status").json()
    assert status["challenge"]["attempts_left"] == 5  # no guess was counted


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["deep array", "1 MB of JSON", "invalid UTF-8", "a list"])
async def test_asgi_refuses_the_same_bodies(world, name):
    client = AsyncClient()
    for url in world["urls"]:
        raw, content_type = REFUSED[name]
        response = await client.generic("POST", url, raw, content_type=content_type)
        assert response.status_code == 400 and response.json()["code"] == "malformed_input"


@pytest.mark.parametrize("phone", ["+33 ⁶⁹⁸⁷⁶⁵⁴³²", "+٣٣٦٩٨٧٦٥٤٣٢\u200b", f"{NEW_PHONE}\x00"])
def test_phone_numbers_with_non_digits_or_controls_send_nothing(world, outbox, phone):
    client = world["clients"]["no factor"]
    sent = len(outbox.messages)
    page = client.post("/2fa/phone/add/", {"phone": phone})
    api = client.post("/2fa/api/enroll", {"factor": "sms", "phone": phone}, "application/json")
    assert page.status_code == 422 and api.status_code == 422
    assert api.json()["code"] == "phone_invalid"
    assert len(outbox.messages) == sent


@pytest.mark.parametrize(
    "phone",
    [
        "+٣٣ ٦ ٩٨ ٧٦ ٥٤ ٣٢",
        "＋３３ ６９８７６５４３２",
        "+۳۳۶۹۸۷۶۵۴۳۲",
    ],  # Arabic-Indic, fullwidth, Persian
)
def test_phone_numbers_in_other_digits_are_read(world, outbox, phone):
    client = world["clients"]["no factor"]
    api = client.post("/2fa/api/enroll", {"factor": "sms", "phone": phone}, "application/json")
    assert api.status_code == 200, api.content
    assert outbox.last_code_for(NEW_PHONE)
