"""Renaming a passkey on Flask's management page: each passkey has a small form (labelled,
CSRF-protected); the core checks the name as the FastAPI route does (1 to 64 printable
characters); a refusal is a 4xx page saying why in the user's language, never a 500, and
renames nothing; renaming needs a fresh second factor and only reaches the user's own keys;
a JSON call (the site's own script) gets the factors or the problem."""

from __future__ import annotations

import re

import pytest

from otpgate import EventName, OutboxSender
from otpgate.integrations.flask import SIGNALS
from tests.conftest import FakeClock

from .conftest import CSRF, PHONE, Harness, make_app, password_login
from .test_passkeys import ORIGIN, keys, passkey_login, with_passkey

H = {"X-CSRFToken": CSRF}


@pytest.fixture
def site(clock: FakeClock, outbox: OutboxSender) -> Harness:
    harness = make_app(
        clock, outbox, OTPGATE_WEBAUTHN_RP_ID="localhost", OTPGATE_WEBAUTHN_ORIGINS=ORIGIN
    )
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def names(site, subject: str) -> list[str]:
    return [key.name for key in keys(site, subject)]


def test_each_passkey_has_a_labelled_form_that_renames_it(site):
    authenticator = with_passkey(site, "alice", "Laptop")
    with_passkey(site, "alice", "Phone")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    first = keys(site, "alice")[0]
    page = client.get("/otp/").text
    form = re.search(
        rf'<form[^>]*class="rename">((?:(?!</form>).)*value="{first.credential_id}".*?)</form>',
        page,
        re.S,
    )
    assert form, "no rename form for the passkey"
    assert 'name="csrf_token"' in form[1] and 'value="Laptop"' in form[1]
    assert 'aria-label="New name for Laptop"' in form[1] and 'maxlength="64"' in form[1]
    assert 'aria-label="Rename Laptop"' in form[1] and ">Rename</button>" in form[1]
    seen = []

    def listener(app, event):
        seen.append((event.name, event.factor))

    SIGNALS[EventName.FACTOR_RENAMED].connect(listener)
    try:
        form_data = {"csrf_token": CSRF, "id": first.credential_id, "name": "  Work laptop "}
        done = client.post("/otp/passkey/rename", data=form_data)
    finally:
        SIGNALS[EventName.FACTOR_RENAMED].disconnect(listener)
    assert done.status_code == 303 and done.headers["Location"] == "/otp/"
    assert names(site, "alice") == ["Work laptop", "Phone"]
    assert seen == [(EventName.FACTOR_RENAMED, "webauthn")]
    listing = client.get("/otp/").text
    assert "Passkey renamed." in listing and "Work laptop" in listing
    api = client.post(
        "/otp/passkey/rename", json={"id": first.credential_id, "name": "Desk"}, headers=H
    )
    assert api.status_code == 200 and api.json["factors"]["passkeys"][0] == "Desk"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "bell\x07", "tab\there"])
def test_a_refused_name_is_a_4xx_page_saying_why_and_renames_nothing(site, bad):
    authenticator = with_passkey(site, "alice", "Laptop")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    key = keys(site, "alice")[0]
    form = {"csrf_token": CSRF, "id": key.credential_id, "name": bad}
    refused = client.post("/otp/passkey/rename", data=form)
    assert refused.status_code == 400
    assert "A passkey&#39;s name is 1 to 64 printable characters." in refused.text
    assert 'aria-invalid="true"' in refused.text and f'value="{key.credential_id}"' in refused.text
    assert names(site, "alice") == ["Laptop"]
    arabic = client.post("/otp/passkey/rename", data=form, headers={"Accept-Language": "ar"})
    assert "يتكون اسم مفتاح المرور من 1 إلى 64" in arabic.text and 'dir="rtl"' in arabic.text
    api = client.post("/otp/passkey/rename", json={"id": key.credential_id, "name": bad}, headers=H)
    assert api.status_code == 400 and api.json["code"] == "malformed_input"


def test_an_unknown_or_someone_elses_passkey_is_refused(site):
    with_passkey(site, "bob", "Theirs")
    authenticator = with_passkey(site, "alice", "Mine")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    theirs = keys(site, "bob")[0].credential_id
    for credential_id in (theirs, "bm8tc3VjaC1rZXk"):
        form = {"csrf_token": CSRF, "id": credential_id, "name": "Stolen"}
        refused = client.post("/otp/passkey/rename", data=form)
        assert refused.status_code == 404 and "No such passkey." in refused.text
        assert client.get(f"/otp/passkey/rename?id={credential_id}").status_code == 404
        api = client.post("/otp/passkey/rename", json=form, headers=H)
        assert api.status_code == 404 and api.json["code"] == "passkey_not_found"
        removal = client.post("/otp/passkey/remove", data={**form, "confirm": "1"})
        assert removal.status_code == 404  # renaming and removing answer alike
    assert names(site, "bob") == ["Theirs"] and names(site, "alice") == ["Mine"]
    form = {"csrf_token": CSRF, "id": "é" * 3, "name": "X"}
    assert client.post("/otp/passkey/rename", data=form).status_code == 400


def test_the_rename_page_shows_the_current_name(site):
    authenticator = with_passkey(site, "alice", "Tablet")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    key = keys(site, "alice")[0]
    page = client.get(f"/otp/passkey/rename?id={key.credential_id}")
    assert page.status_code == 200 and 'value="Tablet"' in page.text
    assert '<label for="otpgate-passkey-name">Name</label>' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


def test_renaming_needs_a_fresh_second_factor_and_the_csrf_token(site):
    authenticator = with_passkey(site, "alice", "Laptop")
    client = site.client()
    passkey_login(site, client, authenticator, "alice")
    key = keys(site, "alice")[0]
    forged = client.post("/otp/passkey/rename", data={"id": key.credential_id, "name": "Forged"})
    assert forged.status_code == 403
    site.clock.advance(301)
    form = {"csrf_token": CSRF, "id": key.credential_id, "name": "Later"}
    stale = client.post("/otp/passkey/rename", data=form)
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/otp/verify?next=")
    assert names(site, "alice") == ["Laptop"]
    other = site.client()
    password_login(other, "carol")  # another user, with no factor: not alice's passkey
    assert other.post("/otp/passkey/rename", data=form).status_code == 404
    assert names(site, "alice") == ["Laptop"]
