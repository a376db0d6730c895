"""Renaming a passkey on Django's management page: each passkey has a small form (labelled,
CSRF-protected); the core checks the name as the FastAPI route does (1 to 64 printable
characters); a refusal is a 4xx page saying why in the user's language, never a 500, and
renames nothing; renaming needs a fresh second factor and only reaches the user's own keys."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from otpgate.integrations.django import signals

from .conftest import make_user, sign_in
from .test_passkeys import passkey_login, passkeys_on, with_passkey  # noqa: F401

pytestmark = pytest.mark.django_db

ARABIC = {"LANGUAGES": [("en", "English"), ("ar", "Arabic")]}


@pytest.fixture
def events():
    received = []

    def listener(sender, event, subject, **kwargs):
        received.append((event.name.value, event.factor, subject))

    signals.otp_event.connect(listener)
    yield received
    signals.otp_event.disconnect(listener)


def names(gate, user) -> list[str]:
    return [key.name for key in gate.passkeys.list(str(user.pk))]


def test_each_passkey_has_a_labelled_form_that_renames_it(client, gate, events):
    user = make_user("ren")
    authenticator = with_passkey(gate, user, "Laptop")
    with_passkey(gate, user, "Phone")
    passkey_login(client, authenticator, "ren")
    first, _second = gate.passkeys.list(str(user.pk))
    page = client.get("/2fa/").content.decode()
    form = re.search(
        rf'<form method="post" action="/2fa/passkey/{first.credential_id}/rename/"'
        r"[^>]*>(.*?)</form>",
        page,
        re.S,
    )
    assert form, "no rename form for the passkey"
    assert 'name="csrfmiddlewaretoken"' in form[1]
    assert 'aria-label="New name for Laptop"' in form[1] and 'value="Laptop"' in form[1]
    assert 'maxlength="64"' in form[1] and "required" in form[1]
    assert 'aria-label="Rename Laptop"' in form[1] and ">Rename</button>" in form[1]
    done = client.post(f"/2fa/passkey/{first.credential_id}/rename/", {"name": "  Work laptop "})
    assert done.status_code == 302 and done["Location"] == "/2fa/"
    assert names(gate, user) == ["Work laptop", "Phone"]
    listing = client.get("/2fa/").content.decode()
    assert "Passkey renamed." in listing and "Work laptop" in listing
    assert ("factor_renamed", "webauthn", str(user.pk)) in events


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "bell\x07", "tab\there"])
def test_a_refused_name_is_a_4xx_page_saying_why_and_renames_nothing(client, gate, bad):
    user = make_user("bad")
    authenticator = with_passkey(gate, user, "Laptop")
    passkey_login(client, authenticator, "bad")
    key = gate.passkeys.list(str(user.pk))[0]
    url = f"/2fa/passkey/{key.credential_id}/rename/"
    refused = client.post(url, {"name": bad})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "A passkey&#x27;s name is 1 to 64 printable characters." in page
    assert 'aria-invalid="true"' in page and f'action="{url}"' in page  # the form again
    assert names(gate, user) == ["Laptop"]
    with override_settings(**ARABIC):
        arabic = client.post(url, {"name": bad}, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "يتكون اسم مفتاح المرور من 1 إلى 64" in arabic and 'dir="rtl"' in arabic


def test_an_unknown_or_someone_elses_passkey_is_refused(client, gate):
    owner = make_user("own")
    with_passkey(gate, owner, "Theirs")
    user = make_user("usr")
    authenticator = with_passkey(gate, user, "Mine")
    passkey_login(client, authenticator, "usr")
    theirs = gate.passkeys.list(str(owner.pk))[0].credential_id
    for credential_id in (theirs, "bm8tc3VjaC1rZXk"):
        url = f"/2fa/passkey/{credential_id}/rename/"
        refused = client.post(url, {"name": "Stolen"})
        assert refused.status_code == 404 and "No such passkey." in refused.content.decode()
        assert client.get(url).status_code == 404
        removal = client.post(f"/2fa/passkey/{credential_id}/remove/", {"confirm": "1"})
        assert removal.status_code == 404  # renaming and removing answer alike
    assert names(gate, owner) == ["Theirs"] and names(gate, user) == ["Mine"]
    malformed = client.post("/2fa/passkey/" + "é" * 3 + "/rename/", {"name": "X"})
    assert malformed.status_code == 400


def test_the_rename_page_shows_the_current_name(client, gate):
    user = make_user("cur")
    authenticator = with_passkey(gate, user, "Tablet")
    passkey_login(client, authenticator, "cur")
    key = gate.passkeys.list(str(user.pk))[0]
    page = client.get(f"/2fa/passkey/{key.credential_id}/rename/")
    text = page.content.decode()
    assert page.status_code == 200 and 'value="Tablet"' in text
    assert '<label for="otpgate-passkey-name">Name</label>' in text
    assert page["X-Frame-Options"] == "DENY" and "no-store" in page["Cache-Control"]


def test_renaming_needs_a_fresh_second_factor_and_the_csrf_token(client, gate, clock):
    user = make_user("old")
    authenticator = with_passkey(gate, user, "Laptop")
    passkey_login(client, authenticator, "old")
    key = gate.passkeys.list(str(user.pk))[0]
    url = f"/2fa/passkey/{key.credential_id}/rename/"
    clock.advance(gate.settings.step_up_max_age + 1)
    stale = client.post(url, {"name": "Later"})
    assert stale.status_code == 302 and stale["Location"].startswith("/2fa/verify/")
    assert names(gate, user) == ["Laptop"]
    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, "old", "/")
    assert strict.post(url, {"name": "Forged"}).status_code == 403
    assert names(gate, user) == ["Laptop"]
