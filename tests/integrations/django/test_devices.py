"""Remembered devices through Django's test client: the cookie's attributes, the sign-in
shortcut (never step-up), tampering, the management views and the hooks."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from .conftest import PASSWORD, last_code, sign_in

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(autouse=True)
def remembering() -> Any:
    with override_settings(OTPGATE_REMEMBER_DEVICE=True):
        yield


def second_step(client: Any, outbox: Any, *, remember: bool = True, **extra: Any) -> Any:
    data = {"action": "verify", "method": "sms", "code": last_code(outbox)}
    if remember:
        data["remember_device"] = "1"
    return client.post("/2fa/verify/", data, HTTP_USER_AGENT=FIREFOX, **extra)


def sign_out(client: Any) -> None:
    client.post("/accounts/logout/")


def test_the_box_sets_a_signed_httponly_lax_cookie(client, sms_user, outbox):
    sign_in(client, "alice", "/")
    page = client.get("/2fa/verify/")
    assert b"Don\xe2\x80\x99t ask again on this device for 30 days" in page.content
    answer = second_step(client, outbox)
    assert answer.status_code == 302 and answer["Location"] == "/"
    cookie = answer.cookies["otpgate_device"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 30 * 86400
    sign_out(client)
    sent = len(outbox.messages)
    again = sign_in(client, "alice", "/")
    assert again.status_code == 302 and again["Location"] == "/"
    assert client.get("/").content == b"PROTECTED home"  # the middleware lets it through
    assert len(outbox.messages) == sent
    for guarded in ("/secret/", "/short/"):  # step-up: a remembered sign-in is never fresh
        step_up = client.get(guarded)
        assert step_up.status_code == 302 and "/2fa/verify/" in step_up["Location"]


def test_the_cookie_is_secure_over_https(client, sms_user, outbox):
    sign_in(client, "alice")
    answer = second_step(client, outbox, secure=True)
    assert answer.cookies["otpgate_device"]["secure"]


def test_a_tampered_or_foreign_cookie_is_not_honoured(client, sms_user, outbox, gate):
    from .conftest import make_user

    sign_in(client, "alice")
    token_cookie = second_step(client, outbox).cookies["otpgate_device"].value
    sign_out(client)
    client.cookies["otpgate_device"] = token_cookie[:-2] + "xx"
    assert "/2fa/verify/" in sign_in(client, "alice")["Location"]
    # bob's sign-in with alice's device cookie: bound to alice
    bob = make_user("bob")
    gate.credentials.add_phone(str(bob.pk), "+4915112345678")
    client.cookies["otpgate_device"] = token_cookie
    assert "/2fa/verify/" in sign_in(client, "bob")["Location"]


def test_a_password_change_voids_the_device(client, sms_user, outbox):
    sign_in(client, "alice")
    second_step(client, outbox)
    sign_out(client)
    sms_user.set_password("new password 2026")
    sms_user.save()
    data = {"username": "alice", "password": "new password 2026"}
    assert "/2fa/verify/" in client.post("/accounts/login/", data)["Location"]


def test_forget_devices_voids_every_device(client, sms_user, outbox):
    from otpgate.integrations.django import forget_devices

    sign_in(client, "alice")
    second_step(client, outbox)
    sign_out(client)
    assert forget_devices(sms_user) == 1
    assert "/2fa/verify/" in sign_in(client, "alice")["Location"]


def test_the_box_is_absent_when_off_and_on_step_up(client, sms_user, outbox):
    with override_settings(OTPGATE_REMEMBER_DEVICE=False):
        sign_in(client, "alice")
        assert "ask again on this device" not in client.get("/2fa/verify/").content.decode()
        answer = second_step(client, outbox)  # a forged box changes nothing
        assert "otpgate_device" not in answer.cookies
    step_up = client.get("/2fa/verify/?next=/short/")
    assert "ask again on this device" not in step_up.content.decode()


def test_forgetting_needs_csrf_and_a_signed_in_session(sms_user, outbox):
    from django.test import Client

    strict = Client()
    sign_in(strict, "alice")
    strict.post("/2fa/verify/", {"action": "verify", "method": "sms", "code": last_code(outbox)})
    strict.handler.enforce_csrf_checks = True  # signed in; now a forged POST
    assert strict.post("/2fa/devices/forget-all/", {"confirm": "1"}).status_code == 403
    assert strict.post("/2fa/devices/forget/", {"device": "0" * 16}).status_code == 403
    anonymous = Client()
    answer = anonymous.post("/2fa/devices/forget-all/", {"confirm": "1"})
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_the_management_page_lists_and_forgets(client, sms_user, outbox, gate):
    sign_in(client, "alice")
    second_step(client, outbox)
    page = client.get("/2fa/").content.decode()
    assert "Firefox on Linux" in page and "127.0.0.0/24" in page
    ref = gate.devices.list(str(sms_user.pk))[0].ref
    assert client.post("/2fa/devices/forget-all/", {}).status_code == 302  # unconfirmed
    assert len(gate.devices.list(str(sms_user.pk))) == 1
    assert "Tick the box to confirm." in client.get("/2fa/").content.decode()
    assert client.post("/2fa/devices/forget/", {"device": ref}).status_code == 302
    assert gate.devices.list(str(sms_user.pk)) == []
    assert "The device will be asked for a code again." in client.get("/2fa/").content.decode()


def test_the_orm_keeps_only_digests(client, sms_user, outbox):
    from otpgate.integrations.django.models import RememberedDevice

    sign_in(client, "alice")
    cookie = second_step(client, outbox).cookies["otpgate_device"].value
    row = RememberedDevice.objects.get()
    token = cookie.split(":")[0]
    ref, secret = token.split(".")
    assert row.ref == ref and secret not in (row.digest, row.binding)
    assert row.place == "127.0.0.0/24"  # never the address itself
    assert PASSWORD not in str(vars(row))


def test_the_box_and_the_list_are_translated(client, sms_user, outbox):
    sign_in(client, "alice")
    page = client.get("/2fa/verify/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "30 天内在此设备上不再询问" in page
    second_step(client, outbox)
    listed = client.get("/2fa/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "已记住的设备" in listed and "忘记所有设备" in listed


@pytest.mark.django_db(transaction=True)
async def test_the_async_orm_repository_keeps_devices(otpgate_runtime):
    from asgiref.sync import sync_to_async

    from otpgate import AsyncVerifier, MalformedInput, MemoryStore, Settings
    from otpgate.integrations.django.credentials import AsyncOrmCredentials

    from .conftest import PHONE, make_user

    creds = AsyncOrmCredentials()
    subject = str((await sync_to_async(make_user)("dave")).pk)
    await creds.add_phone(subject, PHONE)
    settings = Settings(secret_keys=("k" * 32,), remember_device=True)
    gate = AsyncVerifier(settings, store=MemoryStore(), credentials=creds)
    token = await gate.devices.remember(subject, stamp="hash", user_agent=FIREFOX)
    assert await gate.devices.check(token, subject, stamp="hash") is True
    assert await gate.devices.check(token, subject, stamp="other") is False  # and deleted
    token = await gate.devices.remember(subject, stamp="hash")
    assert [d.label for d in await gate.devices.list(subject)] == [""]
    await gate.recovery.generate(subject)  # a factor change
    assert await gate.devices.check(token, subject, stamp="hash") is False
    assert await gate.devices.list(subject) == []
    with pytest.raises(MalformedInput):  # a subject that is no user id: a typed error
        await creds.list_devices("not-a-user-id")


def test_the_admin_shows_devices_without_their_digests(client, sms_user, outbox):
    from otpgate.integrations.django.models import RememberedDevice

    sign_in(client, "alice")
    second_step(client, outbox)
    row = RememberedDevice.objects.get()
    pages = ""
    for path in (
        "/admin/otpgate/remembereddevice/",
        f"/admin/otpgate/remembereddevice/{row.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        pages += response.content.decode()
    assert "Firefox on Linux" in pages and "127.0.0.0/24" in pages
    assert row.digest not in pages and row.binding not in pages


def test_the_json_api_remembers_the_device_when_asked(client, sms_user, outbox):
    sign_in(client, "alice")
    body = {"method": "sms", "code": last_code(outbox), "remember_device": True}
    answer = client.post("/2fa/api/check", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    cookie = answer.cookies["otpgate_device"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    sign_out(client)
    assert sign_in(client, "alice")["Location"] == "/"  # LOGIN_REDIRECT_URL, no second step


def test_the_json_api_remembers_nothing_unasked(client, sms_user, outbox):
    sign_in(client, "alice")
    body = {"method": "sms", "code": last_code(outbox)}
    answer = client.post("/2fa/api/check", body, content_type="application/json")
    assert answer.status_code == 200 and "otpgate_device" not in answer.cookies
