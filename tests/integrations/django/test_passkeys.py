"""Passkey pages in Django, through the test client and a software authenticator
(tests/passkey_authenticator.py: real keys, real signatures): the second step hands the
browser its options and checks its answer; a passkey confirms exactly the transaction shown;
adding and removing need a fresh second factor, removing a confirmation step; bad answers
are a 4xx page, never a 500; CSRF, framing and the first-party script."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.passkey_authenticator import SoftAuthenticator

from .conftest import PHONE, last_code, make_user, sign_in

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost"
PASSKEYS = {"OTPGATE_WEBAUTHN_RP_ID": "localhost", "OTPGATE_WEBAUTHN_ORIGINS": [ORIGIN]}


@pytest.fixture(autouse=True)
def passkeys_on(otpgate_runtime: Any) -> Iterator[None]:
    with override_settings(**PASSKEYS):
        otpgate_runtime.reset()
        yield
    otpgate_runtime.reset()


def options_on(page: str) -> dict[str, Any]:
    """The options a page hands the browser (its form's data-otpgate-options)."""
    found = re.search(r'data-otpgate-options="([^"]*)"', page)
    assert found, "no passkey form on the page"
    return dict(json.loads(html.unescape(found.group(1))))


def with_passkey(gate: Any, user: Any, name: str = "Laptop") -> SoftAuthenticator:
    """``user`` gets a passkey (through the core, as the add page does)."""
    authenticator = SoftAuthenticator(ORIGIN)
    setup = gate.setup(str(user.pk), "webauthn", name=name, label=user.get_username())
    answer = authenticator.create(setup.challenge.browser_options)
    gate.verify(str(user.pk), "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    return authenticator


def passkey_login(client: Client, authenticator: SoftAuthenticator, username: str) -> Any:
    sign_in(client, username)
    page = client.get("/2fa/verify/").content.decode()
    answer = authenticator.get(options_on(page))
    return client.post("/2fa/verify/", {"method": "webauthn", "action": "verify", "code": answer})


def test_the_passkey_script_is_served_from_the_site(client):
    script = client.get("/2fa/webauthn.js")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert script["X-Content-Type-Options"] == "nosniff"
    assert b"OtpgateWebAuthn" in script.content and b"parseRequestOptionsFromJSON" in script.content


def test_the_second_step_opens_on_the_passkey_and_checks_the_answer(client, gate, outbox):
    user = make_user("pia")
    gate.credentials.add_phone(str(user.pk), PHONE)
    authenticator = with_passkey(gate, user)
    sign_in(client, "pia", "/secret/")
    page = client.get("/2fa/verify/").content.decode()
    options = options_on(page)
    assert options["rpId"] == "localhost" and options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [
        gate.passkeys.list(str(user.pk))[0].credential_id
    ]
    assert 'src="/2fa/webauthn.js"' in page and "Use your passkey" in page
    assert outbox.messages == []  # the passkey is preferred: no SMS at sign-in
    answer = authenticator.get(options)
    done = client.post("/2fa/verify/", {"method": "webauthn", "action": "verify", "code": answer})
    assert done.status_code == 302 and done["Location"] == "/secret/"
    assert client.get("/secret/").content == b"PROTECTED step-up"
    listed = gate.passkeys.list(str(user.pk))[0]
    assert listed.last_used_at is not None and listed.sign_count == 1


def test_a_sent_code_and_a_passkey_challenge_do_not_mix(client, gate, outbox):
    """Trying the passkey, then the SMS: the SMS page waits for a send (the passkey's
    challenge is not a sent code), and its code works."""
    user = make_user("sam")
    gate.credentials.add_phone(str(user.pk), PHONE)
    with_passkey(gate, user)
    sign_in(client, "sam")
    client.get("/2fa/verify/")
    sms = client.get("/2fa/verify/?method=sms").content.decode()
    assert "Send code" in sms and "We sent a code" not in sms
    client.post("/2fa/verify/", {"method": "sms", "action": "send"})
    code = last_code(outbox)
    done = client.post("/2fa/verify/", {"method": "sms", "action": "verify", "code": code})
    assert done.status_code == 302


@pytest.mark.parametrize(
    "code",
    ["", "not json", "{}", '{"id": "x", "response": {}}', "[" * 5000, "x" * 40_000],
)
def test_a_malformed_answer_is_a_4xx_page_not_a_500(client, gate, code):
    user = make_user("mal")
    with_passkey(gate, user)
    sign_in(client, "mal")
    client.get("/2fa/verify/")
    refused = client.post("/2fa/verify/", {"method": "webauthn", "action": "verify", "code": code})
    assert 400 <= refused.status_code < 500
    assert client.get("/secret/").status_code == 302  # not signed in


def test_an_answer_from_another_origin_is_refused(client, gate):
    user = make_user("eve")
    authenticator = with_passkey(gate, user)
    sign_in(client, "eve")
    options = options_on(client.get("/2fa/verify/").content.decode())
    phished = authenticator.get(options, origin="https://1ocalhost.example")
    refused = client.post(
        "/2fa/verify/", {"method": "webauthn", "action": "verify", "code": phished}
    )
    assert refused.status_code == 400
    assert "That passkey could not be verified." in refused.content.decode()
    again = options_on(refused.content.decode())  # the page has a new challenge to try
    assert again["challenge"] != options["challenge"]


def test_a_passkey_confirms_exactly_the_transaction_shown(client, gate):
    user = make_user("tom")
    authenticator = with_passkey(gate, user)
    assert passkey_login(client, authenticator, "tom").status_code == 302
    form = {"amount": "250.00", "payee": "ACME"}
    page = client.post("/transfer/", form).content.decode()
    assert "EUR 250.00" in page and "Approve with your passkey" in page
    answer = authenticator.get(options_on(page))
    changed = client.post("/transfer/", {**form, "amount": "9999.00", "otp_code": answer})
    assert b"PROTECTED transferred" not in changed.content
    page = client.post("/transfer/", form).content.decode()  # opened again
    done = client.post("/transfer/", {**form, "otp_code": authenticator.get(options_on(page))})
    assert done.content == b"PROTECTED transferred 250.00 to ACME"


def test_a_refused_answer_on_the_confirmation_page_gets_a_new_challenge(client, gate):
    user = make_user("uma")
    authenticator = with_passkey(gate, user)
    passkey_login(client, authenticator, "uma")
    form = {"amount": "10.00", "payee": "Bob"}
    first = options_on(client.post("/transfer/", form).content.decode())
    wrong = authenticator.get(first, origin="https://evil.example")
    refused = client.post("/transfer/", {**form, "otp_code": wrong})
    assert refused.status_code == 400
    second = options_on(refused.content.decode())
    assert second["challenge"] != first["challenge"]
    done = client.post("/transfer/", {**form, "otp_code": authenticator.get(second)})
    assert done.content == b"PROTECTED transferred 10.00 to Bob"


def test_adding_a_passkey_on_the_page(client, gate, clock):
    user = make_user("ada")
    sign_in(client, "ada", "/")  # no factor yet: signed in by password alone
    assert "No passkey yet." in client.get("/2fa/").content.decode()
    named = client.post("/2fa/passkey/add/", {"action": "start", "name": "Phone"})
    options = options_on(named.content.decode())
    assert options["rp"] == {"id": "localhost", "name": "Acme"}
    assert options["user"]["name"] == "ada@example.com"  # the account label: the email
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    answer = SoftAuthenticator(ORIGIN).create(options)
    done = client.post("/2fa/passkey/add/", {"action": "finish", "credential": answer})
    assert done.status_code == 302 and done["Location"] == "/2fa/"
    listing = client.get("/2fa/").content.decode()
    assert "Phone" in listing and "Never used" in listing
    assert [key.name for key in gate.passkeys.list(str(user.pk))] == ["Phone"]


def test_adding_a_second_passkey_needs_a_fresh_second_factor(client, gate, clock):
    user = make_user("bea")
    authenticator = with_passkey(gate, user)
    passkey_login(client, authenticator, "bea")
    clock.advance(gate.settings.step_up_max_age + 1)
    stale = client.post("/2fa/passkey/add/", {"action": "start", "name": "Second"})
    assert stale.status_code == 302 and stale["Location"].startswith("/2fa/verify/")
    assert len(gate.passkeys.list(str(user.pk))) == 1


def test_removing_needs_a_fresh_factor_then_a_confirmation(client, gate, clock):
    user = make_user("rob")
    authenticator = with_passkey(gate, user, "Old phone")
    passkey_login(client, authenticator, "rob")
    key = gate.passkeys.list(str(user.pk))[0]
    url = f"/2fa/passkey/{key.credential_id}/remove/"
    assert url in client.get("/2fa/").content.decode()
    clock.advance(gate.settings.step_up_max_age + 1)
    stale = client.get(url)
    assert stale.status_code == 302 and stale["Location"].startswith("/2fa/verify/?next=")
    page = client.get("/2fa/verify/").content.decode()
    client.post(
        "/2fa/verify/",
        {"method": "webauthn", "action": "verify", "code": authenticator.get(options_on(page))},
    )
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Old phone" in confirm.content.decode()
    assert len(gate.passkeys.list(str(user.pk))) == 1  # asking removes nothing
    forged = client.post(url)  # a POST without the confirmation asks again
    assert forged.status_code == 200 and len(gate.passkeys.list(str(user.pk))) == 1
    done = client.post(url, {"confirm": "1"})
    assert done.status_code == 302 and done["Location"] == "/2fa/"
    assert gate.passkeys.list(str(user.pk)) == []
    assert client.get(url).status_code == 404


def test_someone_elses_passkey_cannot_be_removed(client, gate):
    owner = make_user("own")
    with_passkey(gate, owner)
    other = make_user("oth")
    sign_in(client, "oth", "/")
    key = gate.passkeys.list(str(owner.pk))[0]
    assert client.post(f"/2fa/passkey/{key.credential_id}/remove/").status_code == 404
    assert len(gate.passkeys.list(str(owner.pk))) == 1
    assert other.pk != owner.pk


def test_passkey_forms_need_the_csrf_token(gate):
    user = make_user("csr")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post("/2fa/passkey/add/", {"action": "start", "name": "X"})
    assert refused.status_code == 403
    page = client.get("/2fa/passkey/add/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    assert gate.passkeys.list(str(user.pk)) == []


def test_passkey_pages_deny_framing_and_are_not_cached(client, gate):
    user = make_user("frm")
    sign_in(client, "frm", "/")
    for response in (
        client.get("/2fa/passkey/add/"),
        client.post("/2fa/passkey/add/", {"action": "start", "name": "X"}),
    ):
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "no-store" in response["Cache-Control"]
    assert user.pk


def test_without_passkey_settings_there_is_no_passkey_section(client, otpgate_runtime):
    make_user("old")
    with override_settings(OTPGATE_WEBAUTHN_RP_ID=None, OTPGATE_WEBAUTHN_ORIGINS=[]):
        otpgate_runtime.reset()
        sign_in(client, "old", "/")
        page = client.get("/2fa/").content.decode()
        assert "Passkeys" not in page and "Add a passkey" not in page
        refused = client.post("/2fa/passkey/add/", {"action": "start", "name": "X"})
        assert 400 <= refused.status_code < 500


def test_an_async_view_confirms_a_transaction_with_a_passkey(client, gate):
    user = make_user("ash")
    authenticator = with_passkey(gate, user)
    passkey_login(client, authenticator, "ash")
    form = {"amount": "42.00", "payee": "Zoe"}
    page = client.post("/transfer-async/", form).content.decode()
    first = options_on(page)
    refused = client.post(
        "/transfer-async/",
        {**form, "otp_code": authenticator.get(first, origin="https://evil.example")},
    )
    second = options_on(refused.content.decode())  # reopened with a new challenge
    assert second["challenge"] != first["challenge"]
    done = client.post("/transfer-async/", {**form, "otp_code": authenticator.get(second)})
    assert done.content == b"PROTECTED async transferred 42.00"


def test_the_json_api_offers_the_passkey_with_its_options(client, gate):
    """A single-page app: status names the passkey, start hands its options, check takes
    the browser's answer (as a JSON string)."""
    user = make_user("spa")
    authenticator = with_passkey(gate, user, "Phone")
    sign_in(client, "spa")
    status = client.get("/2fa/api/status").json()
    assert status["methods"][0] == "webauthn" and status["factors"][0]["input"]["kind"] == "browser"
    started = client.post("/2fa/api/start", {"method": "webauthn"}, "application/json").json()
    options = started["challenge"]["browser_options"]
    body = {"method": "webauthn", "code": authenticator.get(options)}
    checked = client.post("/2fa/api/check", body, "application/json").json()
    assert checked["verified"] is True and checked["factor"] == "webauthn"
    assert client.get("/2fa/api/status").json()["passkeys"] == ["Phone"]


def test_asking_to_send_a_passkey_sends_nothing_and_leaves_the_sms_alone(client, gate, outbox):
    user = make_user("sen")
    gate.credentials.add_phone(str(user.pk), PHONE)
    with_passkey(gate, user)
    sign_in(client, "sen")
    client.post("/2fa/verify/", {"method": "webauthn", "action": "send"})
    assert outbox.messages == []
    sms = client.get("/2fa/verify/?method=sms").content.decode()
    assert "Send code" in sms and "We sent a code" not in sms


def test_a_user_without_a_factor_is_offered_to_add_a_passkey_to_confirm(client):
    make_user("new")
    sign_in(client, "new", "/")
    page = client.post("/transfer/", {"amount": "1.00", "payee": "X"})
    assert page.status_code == 409
    assert 'href="/2fa/passkey/add/"' in page.content.decode()


def test_a_required_user_cannot_remove_their_only_factor(client, gate, otpgate_runtime):
    user = make_user("req")
    authenticator = with_passkey(gate, user, "Only one")
    with override_settings(OTPGATE_REQUIRED="all", **PASSKEYS):
        otpgate_runtime.reset()
        passkey_login(client, authenticator, "req")
        key = gate.passkeys.list(str(user.pk))[0]
        refused = client.post(f"/2fa/passkey/{key.credential_id}/remove/", {"confirm": "1"})
        assert refused.status_code == 409
        assert len(gate.passkeys.list(str(user.pk))) == 1
