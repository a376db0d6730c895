"""Enrollment and management pages: phones, authenticator app, recovery codes; step-up for
every change; events as Django signals."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from otpgate.integrations.django import signals

from .conftest import OTHER_PHONE, PHONE, full_login, last_code, make_user
from .helpers import recovery_form, totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    received = []

    def listener(sender, event, subject, **kwargs):
        received.append((event.name.value, event.factor, subject))

    signals.otp_event.connect(listener)
    yield received
    signals.otp_event.disconnect(listener)


def test_first_phone_needs_no_step_up(client, user, outbox, events):
    client.force_login(user)
    page = client.get("/2fa/").content.decode()
    assert "No phone number yet." in page
    response = client.post("/2fa/phone/add/", {"phone": PHONE})
    assert response["Location"] == "/2fa/phone/verify/"
    page = client.get("/2fa/phone/verify/").content.decode()
    assert "+33 ••• ••• 5678" in page and PHONE not in page
    response = client.post("/2fa/phone/verify/", {"code": last_code(outbox)})
    assert response["Location"] == "/2fa/"
    page = client.get("/2fa/").content.decode()
    assert "+33 ••• ••• 5678" in page and PHONE not in page
    assert ("factor_added", "sms", str(user.pk)) in events


def test_recovery_codes_are_not_shown_to_a_user_without_a_factor(client, user, outbox):
    client.force_login(user)
    page = client.get("/2fa/").content.decode()
    assert "No phone number yet." in page  # the page itself is shown
    assert "unused recovery code" not in page and "<h2>Recovery codes</h2>" not in page
    assert 'href="/2fa/recovery/"' not in page
    client.post("/2fa/phone/add/", {"phone": PHONE})
    client.post("/2fa/phone/verify/", {"code": last_code(outbox)})
    page = client.get("/2fa/").content.decode()  # codes back up a factor: now offered
    assert "0 unused recovery codes." in page and 'href="/2fa/recovery/"' in page


def test_bad_phone_numbers_are_refused(client, user):
    client.force_login(user)
    for phone in ["", "12", "+1 800 555 0100", "x" * 10_000, "١٢٣"]:
        response = client.post("/2fa/phone/add/", {"phone": phone})
        assert response.status_code == 422, phone


def test_changes_need_a_fresh_second_factor(client, sms_user, outbox, clock, events):
    full_login(client, outbox)
    clock.advance(301)
    phone_id = sms_user.otpgate_phones.get().pk
    response = client.post(f"/2fa/phone/{phone_id}/remove/", {"confirm": "1"})
    assert response["Location"] == "/2fa/verify/?next=%2F2fa%2F"
    response = client.post("/2fa/phone/add/", {"phone": OTHER_PHONE})
    assert response["Location"].startswith("/2fa/verify/")
    response = client.post("/2fa/recovery/", {"action": "generate"})
    assert response["Location"].startswith("/2fa/verify/")
    response = client.post("/2fa/app/", {"action": "start"})
    assert response["Location"].startswith("/2fa/verify/")
    assert sms_user.otpgate_phones.count() == 1
    # Step up, then the change goes through.
    client.post("/2fa/verify/", {"action": "send"})
    client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    client.post("/2fa/phone/add/", {"phone": OTHER_PHONE})
    client.post("/2fa/phone/verify/", {"code": last_code(outbox, OTHER_PHONE)})
    assert sms_user.otpgate_phones.count() == 2
    response = client.post(f"/2fa/phone/{phone_id}/remove/", {"confirm": "1"})
    assert response["Location"] == "/2fa/"
    assert list(sms_user.otpgate_phones.values_list("e164", flat=True)) == [OTHER_PHONE]
    assert ("factor_removed", "sms", str(sms_user.pk)) in events


def test_someone_elses_phone_cannot_be_removed(client, sms_user, outbox, gate):
    other = make_user("mallory")
    gate.credentials.add_phone(str(other.pk), OTHER_PHONE)
    full_login(client, outbox)
    phone_id = other.otpgate_phones.get().pk
    assert client.post(f"/2fa/phone/{phone_id}/remove/").status_code == 404


def _decode_qr_uri(svg: str) -> str | None:
    """The otpauth URI inside the QR code, if a QR decoder is installed."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # pragma: no cover - tox installs zxing-cpp and pillow
        return "decoder missing"
    size = 4
    rows = _svg_modules(svg)
    image = Image.new("L", ((len(rows) + 8) * size, (len(rows) + 8) * size), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(size):
                    for dx in range(size):
                        image.putpixel(((x + 4) * size + dx, (y + 4) * size + dy), 0)
    results = zxingcpp.read_barcodes(image)
    return results[0].text if results else None


def _svg_modules(svg: str) -> list[list[bool]]:
    """segno's SVG path (runs ``h n`` in module units, moves ``m dx dy``) as a module grid."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    cells: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b or 0)
        else:
            cells.update((int(x) + i, int(y)) for i in range(int(float(a))))
            x += float(a)
    size = max(max(c) for c in cells) + 1
    return [[(cx, cy) in cells for cx in range(size)] for cy in range(size)]


def test_authenticator_app_setup(client, user, clock, events, gate):
    client.force_login(user)
    response = client.post("/2fa/app/", {"action": "start"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = re.search(r'id="otpgate-key">([^<]+)<', page).group(1).replace(" ", "")
    assert "<svg" in page
    assert 'autocomplete="one-time-code"' in page
    uri = _decode_qr_uri(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    if uri != "decoder missing":
        assert uri is not None, "a standard QR reader could not decode the code"
        assert uri.startswith("otpauth://totp/Acme:nofactor%40example.com?")  # the email
        assert f"secret={key}" in uri
    # Leaving and coming back shows the same pending set-up.
    assert key in client.get("/2fa/app/").content.decode().replace(" ", "")
    response = client.post("/2fa/app/", {"action": "confirm", "code": "000000"})
    assert response.status_code == 400
    response = client.post("/2fa/app/", {"action": "confirm", "code": totp_now(key, clock())})
    assert response["Location"] == "/2fa/"
    assert gate.totp.is_enrolled(str(user.pk))
    assert ("factor_added", "totp", str(user.pk)) in events
    assert "An authenticator app is set up" in client.get("/2fa/app/").content.decode()
    # Removal (fresh: confirming counted as a second factor).
    assert client.post("/2fa/app/remove/", {"confirm": "1"})["Location"] == "/2fa/"
    assert not gate.totp.is_enrolled(str(user.pk))
    assert ("factor_removed", "totp", str(user.pk)) in events


def test_recovery_codes_are_shown_once(client, sms_user, outbox, gate):
    full_login(client, outbox)
    response = client.post("/2fa/recovery/", recovery_form(client))
    assert "no-store" in response["Cache-Control"]
    codes = re.findall(r"<li>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</li>", response.content.decode())
    assert len(codes) == 10
    # The file names the account as the authenticator app does: the email, else the user name.
    assert "Account: alice@example.com" in response.content.decode()
    page = client.get("/2fa/recovery/").content.decode()
    assert not any(code in page for code in codes)
    assert "10 unused recovery codes." in page
    assert client.post("/2fa/recovery/", {"action": "remove"})["Location"] == "/2fa/"
    assert gate.recovery.remaining(str(sms_user.pk)) == 0


def test_recovery_codes_need_a_phone_or_app_first(client, user):
    client.force_login(user)
    response = client.post("/2fa/recovery/", {"action": "generate"})
    assert response.status_code == 409
    assert "Set up a phone number or an authenticator app first." in response.content.decode()


@override_settings(OTPGATE_REQUIRED="all")
def test_required_users_keep_one_factor(client, sms_user, outbox):
    full_login(client, outbox)
    phone_id = sms_user.otpgate_phones.get().pk
    response = client.post(f"/2fa/phone/{phone_id}/remove/", {"confirm": "1"})
    assert response.status_code == 409
    assert "This is your last second factor" in response.content.decode()
    assert sms_user.otpgate_phones.count() == 1


def test_manage_pages_need_a_session_that_passed(client, sms_user):
    client.force_login(sms_user)
    for path in ("/2fa/", "/2fa/phone/add/", "/2fa/app/", "/2fa/recovery/"):
        assert client.get(path)["Location"].startswith("/2fa/verify/"), path


CODE = re.compile(r"<li>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</li>")
ONCE = re.compile(r'name="once" value="([^"]+)"')


def test_reloading_the_new_codes_page_makes_no_other_codes(client, sms_user, outbox, gate):
    full_login(client, outbox)
    form = {
        "action": "generate",
        "once": ONCE.search(client.get("/2fa/recovery/").content.decode())[1],
    }
    first = CODE.findall(client.post("/2fa/recovery/", form).content.decode())
    assert len(first) == 10
    # The browser's reload re-sends the same POST (so does a double click): nothing new.
    again = client.post("/2fa/recovery/", form).content.decode()
    assert not CODE.findall(again)
    assert "Your new recovery codes were already shown" in again
    assert gate.recovery.remaining(str(sms_user.pk)) == 10
    # The page offers a fresh form, which does make new codes, once.
    form["once"] = ONCE.search(again)[1]
    second = CODE.findall(client.post("/2fa/recovery/", form).content.decode())
    assert len(second) == 10 and not set(second) & set(first)
    assert not CODE.findall(client.post("/2fa/recovery/", form).content.decode())
    # A made-up token makes nothing either.
    form["once"] = "made-up"
    assert not CODE.findall(client.post("/2fa/recovery/", form).content.decode())


def test_a_recovery_form_without_a_valid_token_makes_no_codes(
    client, sms_user, outbox, gate, clock
):
    """A template from an older version (no token field), another session's form or a
    mangled token: no new set, the page again saying why, never a 500."""
    other = Client()  # another session of the same user: its token is not this session's
    full_login(other, outbox)
    foreign = recovery_form(other)["once"]
    clock.advance(61)
    full_login(client, outbox)
    first = CODE.findall(client.post("/2fa/recovery/", recovery_form(client)).content.decode())
    assert len(first) == 10
    for form in (
        {"action": "generate"},
        {"action": "generate", "once": ""},
        {"action": "generate", "once": foreign},
        {"action": "generate", "once": "ü" * 30},
    ):
        response = client.post("/2fa/recovery/", form)
        page = response.content.decode()
        assert response.status_code == 200 and not CODE.findall(page), form
        assert "No new codes were made: the form was out of date." in page, form
        assert "already shown" not in page, form
        assert ONCE.search(page), form  # a fresh form, which works
    assert gate.recovery.remaining(str(sms_user.pk)) == 10  # the saved set still works
    with override_settings(LANGUAGES=[("en", "English"), ("ar", "Arabic")]):
        arabic = client.post("/2fa/recovery/", {"action": "generate"}, HTTP_ACCEPT_LANGUAGE="ar")
    assert "لم يتم إنشاء رموز جديدة" in arabic.content.decode()
    again = client.post("/2fa/recovery/", recovery_form(client)).content.decode()
    assert len(CODE.findall(again)) == 10
    assert (
        len(
            CODE.findall(
                other.post(
                    "/2fa/recovery/", {"action": "generate", "once": foreign}
                ).content.decode()
            )
        )
        == 10
    )
