"""Enrollment and management: phone verification, authenticator app, recovery codes, removal;
each change needs a fresh second factor."""

from __future__ import annotations

import re

import pyotp

from otpgate import EventName
from otpgate.integrations.flask import SIGNALS
from tests.conftest import OTHER_PHONE, PHONE
from tests.integrations.flask.conftest import CSRF, password_login, recovery_form, sms_login

H = {"X-CSRFToken": CSRF}


def test_first_phone_of_a_user_without_factors(harness):
    client = harness.client()
    password_login(client, "bob")
    page = client.get("/otp/")
    assert "No phone number yet." in page.text
    assert 'type="tel" autocomplete="tel"' in client.get("/otp/phone").text
    response = client.post("/otp/phone", data={"csrf_token": CSRF, "phone": "+33 6 12 34 56 78"})
    assert response.status_code == 303
    page = client.get("/otp/phone")
    assert "We sent a code to +33\u00a0•••\u00a0•••\u00a05678." in page.text
    assert 'inputmode="numeric" pattern="\\p{Nd}*"' in page.text
    done = client.post("/otp/phone/confirm", data={"csrf_token": CSRF, "code": harness.last_code()})
    assert done.status_code == 303 and done.headers["Location"] == "/otp/"
    page = client.get("/otp/")
    assert "Phone number verified." in page.text and "+33\u00a0•••\u00a0•••\u00a05678" in page.text
    assert PHONE not in page.text
    assert client.get("/account").status_code == 200  # proving the phone passed a factor


def test_changes_need_a_fresh_second_factor(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    for path in (
        "/otp/phone",
        "/otp/totp",
        "/otp/totp/remove",
        "/otp/recovery",
        "/otp/phone/remove",
    ):
        response = client.post(path, data={"csrf_token": CSRF, "phone": OTHER_PHONE, "index": "0"})
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/otp/verify?next="), path
        api = client.post(path, json={"phone": OTHER_PHONE, "index": 0}, headers=H)
        assert api.status_code == 401 and api.json["code"] == "fresh_otp_required", path
    with harness.app.app_context():
        assert harness.gate.verifier.factors("alice").masked_phones == ("+33 ••• ••• 5678",)


def test_password_only_session_cannot_manage(harness):
    client = harness.client()
    password_login(client)  # pending: not signed in
    assert client.get("/otp/").status_code == 303
    api = client.get("/otp/", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json["code"] == "login_required"


def test_authenticator_app_enrollment(harness):
    client = harness.client()
    sms_login(harness, client)
    page = client.post("/otp/totp", data={"csrf_token": CSRF})
    assert page.status_code == 200
    assert "<svg" in page.text and "<title>" in page.text  # QR code with a title
    assert page.headers["Cache-Control"] == "no-store"
    key = re.search(r'<code class="key"[^>]*>([A-Z2-7 ]+)</code>', page.text).group(1)
    code = pyotp.TOTP(key.replace(" ", "")).at(harness.clock.now)
    wrong = client.post("/otp/totp/confirm", data={"csrf_token": CSRF, "code": "12345x"})
    assert wrong.status_code == 400 and "<svg" not in wrong.text  # key is never shown again
    done = client.post("/otp/totp/confirm", data={"csrf_token": CSRF, "code": code})
    assert done.status_code == 303
    manage = client.get("/otp/").text
    assert "Authenticator app set up." in manage
    # every "Remove" link says what it removes, the app's as its phone and passkey siblings
    links = re.findall(r"<a [^>]*>Remove</a>", manage)
    assert len(links) == 2 and all("aria-label=" in link for link in links), links
    assert 'aria-label="Remove the authenticator app"' in manage
    with harness.app.app_context():
        assert harness.gate.verifier.totp.is_enrolled("alice")
    again = client.post("/otp/totp", data={"csrf_token": CSRF})
    assert again.status_code == 409  # remove it first
    removed = client.post("/otp/totp/remove", data={"csrf_token": CSRF, "confirm": "1"})
    assert removed.status_code == 303
    with harness.app.app_context():
        assert not harness.gate.verifier.totp.is_enrolled("alice")


def test_recovery_codes_are_shown_once(harness):
    client = harness.client()
    sms_login(harness, client)
    page = client.post("/otp/recovery", data=recovery_form(client))
    codes = re.findall(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>", page.text)
    assert len(codes) == 10 and page.headers["Cache-Control"] == "no-store"
    manage = client.get("/otp/")
    assert "10 unused recovery codes." in manage.text
    assert not any(code in manage.text for code in codes)
    api = client.post("/otp/recovery", json={}, headers=H)
    assert api.status_code == 201 and len(api.json["codes"]) == 10
    with harness.app.app_context():
        assert harness.gate.verifier.check_recovery("alice", api.json["codes"][0])
        assert harness.gate.verifier.recovery.remaining("alice") == 9


def test_recovery_codes_are_not_shown_to_a_user_without_a_factor(harness):
    client = harness.client()
    password_login(client, "bob")  # no factor yet
    page = client.get("/otp/")
    assert page.status_code == 200 and "No phone number yet." in page.text
    assert "unused recovery code" not in page.text
    assert 'id="otpgate-recovery"' not in page.text
    answer = client.get("/otp/", headers={"Accept": "application/json"}).json
    assert answer["recovery_codes_left"] == 0 and answer["preferable_factors"] == []


def test_recovery_codes_need_another_factor_first(harness):
    client = harness.client()
    password_login(client, "bob")
    response = client.post("/otp/recovery", json={}, headers=H)
    assert response.status_code == 409 and response.json["code"] == "primary_factor_required"


def test_remove_a_phone_emits_a_signal(harness):
    seen = []

    def listener(app, event):
        seen.append((app, event.name, event.masked_phone))

    SIGNALS[EventName.FACTOR_REMOVED].connect(listener)
    try:
        client = harness.client()
        sms_login(harness, client)
        form = {"csrf_token": CSRF, "index": "0", "confirm": "1"}
        response = client.post("/otp/phone/remove", data=form)
        assert response.status_code == 303
        assert "Phone number removed." in client.get("/otp/").text
    finally:
        SIGNALS[EventName.FACTOR_REMOVED].disconnect(listener)
    assert seen == [(harness.app, EventName.FACTOR_REMOVED, "+33 ••• ••• 5678")]
    bad = client.post("/otp/phone/remove", json={"index": 5}, headers=H)
    assert bad.status_code == 400


def test_json_enrollment_of_phone_and_authenticator(harness):
    client = harness.client()
    password_login(client, "bob")
    status = client.get("/otp/", headers={"Accept": "application/json"})
    assert status.json["masked_phones"] == [] and status.json["csrf_token"]
    started = client.post("/otp/phone", json={"phone": OTHER_PHONE}, headers=H)
    assert started.status_code == 201
    assert started.json["challenge"]["masked_phone"] == "+49 ••• ••• ••• 5678"
    assert started.json["challenge"]["resend_in"] == 30
    assert started.json["challenge"]["purpose"] == "enroll"  # the core's challenge_view shape
    early = client.post("/otp/phone/resend", json={}, headers=H)
    assert early.status_code == 429 and early.json["code"] == "resend_cooldown"
    done = client.post(
        "/otp/phone/confirm", json={"code": harness.last_code(OTHER_PHONE)}, headers=H
    )
    assert done.status_code == 200 and done.json["factors"]["masked_phones"] == [
        "+49 ••• ••• ••• 5678"
    ]
    totp = client.post("/otp/totp", json={}, headers=H)
    assert totp.status_code == 201 and totp.json["uri"].startswith("otpauth://totp/")
    code = pyotp.TOTP(totp.json["secret"]).at(harness.clock.now)
    assert client.post("/otp/totp/confirm", json={"code": code}, headers=H).json["factors"]["totp"]


def test_signals_forward_core_events(harness):
    events = []

    def listener(app, event):
        events.append(event.name)

    SIGNALS[EventName.CHALLENGE_APPROVED].connect(listener)
    try:
        sms_login(harness, harness.client())
    finally:
        SIGNALS[EventName.CHALLENGE_APPROVED].disconnect(listener)
    assert events == [EventName.CHALLENGE_APPROVED]


CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>")
ONCE = re.compile(r'name="once" value="([^"]+)"')


def test_reloading_the_new_codes_page_makes_no_other_codes(harness):
    client = harness.client()
    sms_login(harness, client)
    form = {"csrf_token": CSRF, "once": ONCE.search(client.get("/otp/").text)[1]}
    page = client.post("/otp/recovery", data=form)
    first = CODE.findall(page.text)
    assert len(first) == 10
    # The notice is shown on the page that made the codes, and not again later.
    assert page.text.count("New recovery codes made") == 1
    assert "New recovery codes made" not in client.get("/otp/").text
    # The browser's reload re-sends the same POST (so does a double click): nothing new.
    again = client.post("/otp/recovery", data=form)
    assert again.status_code == 200 and not CODE.findall(again.text)
    assert "Your new recovery codes were already shown" in again.text
    with harness.app.app_context():
        assert harness.gate.verifier.check_recovery("alice", first[0])
    # The page offers a fresh form, which does make new codes, once.
    form["once"] = ONCE.search(again.text)[1]
    second = CODE.findall(client.post("/otp/recovery", data=form).text)
    assert len(second) == 10 and not set(second) & set(first)
    assert not CODE.findall(client.post("/otp/recovery", data=form).text)
    form["once"] = "made-up"
    assert not CODE.findall(client.post("/otp/recovery", data=form).text)


def test_a_recovery_form_without_a_valid_token_makes_no_codes(harness):
    """A template from an older version (no token field), another session's form or a
    mangled token: no new set, the page again saying why, never a 500."""
    other = harness.client()  # another session of the same user: its token is not ours
    sms_login(harness, other)
    foreign = recovery_form(other)["once"]
    harness.clock.advance(61)
    client = harness.client()
    sms_login(harness, client)
    first = CODE.findall(client.post("/otp/recovery", data=recovery_form(client)).text)
    assert len(first) == 10
    for once in (None, "", foreign, "ü" * 30):
        form = {"csrf_token": CSRF} if once is None else {"csrf_token": CSRF, "once": once}
        response = client.post("/otp/recovery", data=form)
        assert response.status_code == 200 and not CODE.findall(response.text), once
        assert "No new codes were made: the form was out of date." in response.text, once
        assert "already shown" not in response.text, once
        assert ONCE.search(response.text), once  # a fresh form, which works
    with harness.app.app_context():
        assert harness.gate.verifier.recovery.remaining("alice") == 10
    arabic = client.post(
        "/otp/recovery", data={"csrf_token": CSRF}, headers={"Accept-Language": "ar"}
    )
    assert "لم يتم إنشاء رموز جديدة" in arabic.text
    assert len(CODE.findall(client.post("/otp/recovery", data=recovery_form(client)).text)) == 10
    form = {"csrf_token": CSRF, "once": foreign}
    assert len(CODE.findall(other.post("/otp/recovery", data=form).text)) == 10
