"""Every otpgate URL answers HEAD and OPTIONS as Django's class-based views do: OPTIONS is
200 with an empty body and ``Allow``; HEAD is allowed wherever GET is, has no body and no
side effect (no SMS, the session as it was, nothing written to the database); never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from otpgate.integrations.django import urls as otpgate_urls
from otpgate.integrations.django.models import TotpDevice

from .conftest import full_login

pytestmark = pytest.mark.django_db

KWARGS = {"pk": 1, "credential_id": "abc"}


def _every_url() -> list[tuple[str, str]]:
    found = []
    for pattern in otpgate_urls.urlpatterns:
        wanted = {name: KWARGS[name] for name in pattern.pattern.converters}
        found.append((pattern.name, reverse(f"otpgate:{pattern.name}", kwargs=wanted)))
    return found


EVERY = _every_url()


def test_the_walk_covers_every_url():
    assert len(EVERY) == len(otpgate_urls.urlpatterns) > 20
    assert {"api_status", "replay", "verify", "manage", "recovery"} <= {name for name, _ in EVERY}


def _snapshot(client) -> dict:
    return dict(client.session.items())


@pytest.mark.parametrize(("name", "url"), EVERY, ids=[name for name, _ in EVERY])
@pytest.mark.parametrize("who", ["anonymous", "signed_in"])
def test_options_and_head_on_every_url(client, sms_user, outbox, name, url, who):
    if who == "signed_in":
        full_login(client, outbox)
    outbox.clear()
    before, devices = _snapshot(client), TotpDevice.objects.count()
    allowed = otpgate_urls.METHODS.get(name, otpgate_urls.PAGE)

    options = client.options(url)
    assert options.status_code == 200, url
    assert options.content == b""
    allow = [method.strip() for method in options["Allow"].split(",")]
    assert set(allowed) | {"OPTIONS"} <= set(allow)
    assert ("HEAD" in allow) == ("GET" in allow)
    assert options["X-Frame-Options"] == "DENY" or "frame-ancestors" in options.get(
        "Content-Security-Policy", ""
    )

    head = client.head(url)
    assert head.status_code < 500, url
    assert head.content == b""
    if "GET" in allowed:
        assert head.status_code != 405, url
        get = client.get(url)
        assert head.status_code == get.status_code, url
        assert head["Content-Type"] == get["Content-Type"]
    else:
        assert head.status_code == 405 and "POST" in head["Allow"]
    assert outbox.messages == []
    assert TotpDevice.objects.count() == devices
    if "GET" not in allowed:
        assert _snapshot(client) == before


def test_head_leaves_the_session_as_it_was(client, sms_user, outbox):
    """A GET of the second step remembers the factor asked for; a HEAD does not."""
    client.force_login(sms_user)
    before = _snapshot(client)
    head = client.head(reverse("otpgate:verify") + "?method=totp")
    assert head.status_code == 200 and head.content == b""
    assert _snapshot(client) == before
    assert outbox.messages == []


def test_head_of_the_app_page_creates_no_pending_app(client, sms_user, outbox):
    full_login(client, outbox)
    devices = TotpDevice.objects.count()
    head = client.head(reverse("otpgate:totp_setup"))
    assert head.status_code < 500
    assert TotpDevice.objects.count() == devices


def test_head_of_the_status_api_answers_like_get(client, sms_user, outbox):
    full_login(client, outbox)
    url = reverse("otpgate:api_status")
    head, get = client.head(url), client.get(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and int(head["Content-Length"]) == len(get.content)
