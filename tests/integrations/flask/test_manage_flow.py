"""Issue 15: adding and removing each factor on Flask's pages: a success notice (otpgate's own)
shown once, and a confirmation page before any removal: a form POST without the
confirmation removes nothing, cancelling keeps the factor."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

from tests.mail import MailServer, mail, mail_server  # noqa: F401
from tests.passkey_authenticator import SoftAuthenticator

from .conftest import CSRF, PHONE, Harness, make_app, password_login, recovery_form
from .test_email import ADDRESS, _code
from .test_passkeys import ORIGIN, options_on

H = {"X-CSRFToken": CSRF, "Accept": "application/json"}


@pytest.fixture
def site(clock: Any, outbox: Any, mail: MailServer) -> Harness:  # noqa: F811
    harness = make_app(
        clock,
        outbox,
        OTPGATE_WEBAUTHN_RP_ID="localhost",
        OTPGATE_WEBAUTHN_ORIGINS=ORIGIN,
        OTPGATE_EMAIL_SENDER="smtp",
        OTPGATE_SMTP_HOST="127.0.0.1",
        OTPGATE_SMTP_PORT=str(mail.port),
        OTPGATE_SMTP_TLS="none",
        OTPGATE_SMTP_FROM="Acme <no-reply@acme.example>",
    )
    harness.mail = mail  # type: ignore[attr-defined]
    return harness


def _csrf_again(client: Any) -> None:
    """Proving a factor rotates the session (and its CSRF token): the tests' token again."""
    with client.session_transaction() as session:
        session["_otpgate_csrf"] = CSRF


def _add_phone(site: Harness, client: Any) -> None:
    client.post("/otp/phone", data={"csrf_token": CSRF, "phone": PHONE})
    done = client.post("/otp/phone/confirm", data={"csrf_token": CSRF, "code": site.last_code()})
    assert done.status_code == 303


def _add_email(site: Harness, client: Any) -> None:
    client.post("/otp/email", data={"csrf_token": CSRF, "email": ADDRESS})
    code = _code(site.mail)  # type: ignore[attr-defined]
    done = client.post("/otp/email/confirm", data={"csrf_token": CSRF, "code": code})
    assert done.status_code == 303


def _add_app(site: Harness, client: Any) -> None:
    page = client.post("/otp/totp", data={"csrf_token": CSRF}).get_data(as_text=True)
    key = re.search(r'<code class="key"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)
    code = pyotp.TOTP(key.replace(" ", "")).at(site.clock.now)
    done = client.post("/otp/totp/confirm", data={"csrf_token": CSRF, "code": code})
    assert done.status_code == 303


def _add_passkey(site: Harness, client: Any) -> None:
    started = client.post("/otp/passkey", data={"csrf_token": CSRF, "name": "Work laptop"})
    answer = SoftAuthenticator(ORIGIN).create(options_on(started.get_data(as_text=True)))
    done = client.post("/otp/passkey/finish", data={"csrf_token": CSRF, "credential": answer})
    assert done.status_code == 303


@dataclass
class Flow:
    add: Callable[[Harness, Any], None]
    added: str
    removed: str
    #: The removal link on the management page.
    link: str
    #: What the confirmation page shows of what is removed ("" for the app).
    shown: str


FLOWS = {
    "sms": Flow(
        _add_phone,
        "Phone number verified.",
        "Phone number removed.",
        r"/otp/phone/remove\?index=0",
        "+33 ••• ••• 5678",
    ),
    "email": Flow(
        _add_email,
        "Email address verified.",
        "Email address removed.",
        r"/otp/email/remove\?index=0",
        "B••••@example.org",
    ),
    "totp": Flow(
        _add_app,
        "Authenticator app set up.",
        "Authenticator app removed.",
        r"/otp/totp/remove",
        "",
    ),
    "webauthn": Flow(
        _add_passkey, "Passkey added.", "Passkey removed.", r"/otp/passkey/remove\?id=[^\"]+", ""
    ),
}


def _has(site: Harness, factor: str) -> bool:
    with site.app.app_context():
        return factor in {o.name for o in site.gate.verifier.offer("bob", "login")}


def _notices(page: str) -> list[str]:
    return re.findall(r'<p class="notice" role="status">([^<]+)</p>', page)


@pytest.mark.parametrize("factor", list(FLOWS))
def test_add_then_remove_with_notices_and_a_confirmation(site, factor):
    flow = FLOWS[factor]
    client = site.client()
    password_login(client, "bob")
    flow.add(site, client)
    _csrf_again(client)
    assert _has(site, factor)
    first = client.get("/otp/").get_data(as_text=True)
    assert _notices(first) == [flow.added]
    assert flow.added not in client.get("/otp/").get_data(as_text=True)  # once
    url = re.search(flow.link, first).group(0).replace("&amp;", "&")
    asked = client.get(url)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _has(site, factor)
    assert 'name="confirm" value="1"' in text and flow.shown in text
    assert 'id="otpgate-keep"' in text and 'href="/otp/"' in text  # cancel: back, kept
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text))
    forged = client.post(url.split("?")[0], data=form)  # no confirmation field
    assert forged.status_code == 200 and 'name="confirm"' in forged.get_data(as_text=True)
    assert _has(site, factor)
    assert flow.removed not in client.get("/otp/").get_data(as_text=True)
    done = client.post(url.split("?")[0], data={**form, "confirm": "1"})
    assert done.status_code == 303 and not _has(site, factor)
    assert _notices(client.get("/otp/").get_data(as_text=True)) == [flow.removed]
    assert flow.removed not in client.get("/otp/").get_data(as_text=True)


def test_the_json_api_removes_without_a_page(site):
    client = site.client()
    password_login(client, "bob")
    _add_phone(site, client)
    _csrf_again(client)
    answer = client.post("/otp/phone/remove", json={"index": 0}, headers=H)
    assert answer.status_code == 200 and answer.get_json()["factors"]["masked_phones"] == []


def test_new_recovery_codes_say_the_old_ones_stopped_working(site):
    client = site.client()
    password_login(client, "bob")
    _add_phone(site, client)
    _csrf_again(client)
    client.get("/otp/")
    page = client.post("/otp/recovery", data=recovery_form(client)).get_data(as_text=True)
    notice = "New recovery codes made. The old ones no longer work."
    # On the page that made them, once; not later on the overview next to another notice.
    assert page.count(notice) == 1
    assert _notices(client.get("/otp/").get_data(as_text=True)) == []


def test_the_confirmation_removes_what_it_showed_or_nothing(clock, outbox):
    """The confirmation page names its number by a keyed handle, not by its place in the
    list: if another tab changed the list meanwhile, the POST removes the number the page
    showed, or nothing (never the number that moved into that place)."""
    from tests.conftest import OTHER_PHONE

    from .conftest import sms_login

    harness = make_app(clock, outbox)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
        harness.gate.verifier.credentials.add_phone("alice", OTHER_PHONE)
    client = harness.client()
    sms_login(harness, client)
    page = client.get("/otp/phone/remove?index=0")
    assert "5678" in page.text and PHONE not in page.text and OTHER_PHONE not in page.text
    handle = re.search(r'name="item" value="([^"]+)"', page.text)
    assert handle and "index" not in page.text.split("<form", 1)[1].split("</form>")[0]
    # Another tab removes that first number: the second one moves into its place.
    gone = client.post("/otp/phone/remove", data={"csrf_token": CSRF, "index": "0", "confirm": "1"})
    assert gone.status_code == 303
    stale = client.post(
        "/otp/phone/remove", data={"csrf_token": CSRF, "item": handle.group(1), "confirm": "1"}
    )
    assert stale.status_code == 400
    with harness.app.app_context():
        assert harness.gate.verifier.credentials.phones("alice") == [OTHER_PHONE]
    forged = client.post(
        "/otp/phone/remove", data={"csrf_token": CSRF, "item": "x" * 22, "confirm": "1"}
    )
    assert forged.status_code == 400
    page = client.get("/otp/phone/remove?index=0")
    handle = re.search(r'name="item" value="([^"]+)"', page.text)
    done = client.post(
        "/otp/phone/remove", data={"csrf_token": CSRF, "item": handle.group(1), "confirm": "1"}
    )
    assert done.status_code == 303
    with harness.app.app_context():
        assert harness.gate.verifier.credentials.phones("alice") == []
