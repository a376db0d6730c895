"""A passkey at the sign-in step can remember the browser too (the box sits in the passkey's
form, which the script submits whole); adding a passkey forgets remembered browsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from .conftest import PHONE, make_user, sign_in
from .test_passkeys import PASSKEYS, options_on, with_passkey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def passkeys_and_remembering(otpgate_runtime: Any) -> Iterator[None]:
    with override_settings(OTPGATE_REMEMBER_DEVICE=True, **PASSKEYS):
        otpgate_runtime.reset()
        yield
    otpgate_runtime.reset()


def test_the_passkey_form_carries_the_box_and_remembers_the_browser(client, gate, outbox):
    user = make_user("pia")
    gate.credentials.add_phone(str(user.pk), PHONE)
    authenticator = with_passkey(gate, user)
    sign_in(client, "pia", "/")
    page = client.get("/2fa/verify/").content.decode()
    form = re.search(r"<form[^>]*data-otpgate-webauthn.*?</form>", page, re.S)
    assert form and 'name="remember_device"' in form.group(0)
    answer = authenticator.get(options_on(page))
    done = client.post(
        "/2fa/verify/",
        {"method": "webauthn", "action": "verify", "code": answer, "remember_device": "1"},
    )
    assert done.status_code == 302 and "otpgate_device" in done.cookies
    client.post("/accounts/logout/")
    again = sign_in(client, "pia", "/")
    assert again.status_code == 302 and again["Location"] == "/"
    assert client.get("/").content == b"PROTECTED home"
    assert outbox.messages == []


def test_a_step_up_with_a_passkey_offers_no_box(client, gate):
    user = make_user("pia")
    authenticator = with_passkey(gate, user)
    sign_in(client, "pia", "/")
    page = client.get("/2fa/verify/").content.decode()
    client.post(
        "/2fa/verify/",
        {"method": "webauthn", "action": "verify", "code": authenticator.get(options_on(page))},
    )
    step_up = client.get("/2fa/verify/?next=/secret/").content.decode()
    assert "data-otpgate-webauthn" in step_up and 'name="remember_device"' not in step_up
