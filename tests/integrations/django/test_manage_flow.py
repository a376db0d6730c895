"""Issue 15: adding and removing each factor on Django's pages: a success notice shown once
(otpgate's own session slot, with or without the messages middleware), and a confirmation
page before any removal: a POST without the confirmation removes nothing, cancelling keeps the
factor, and the last factor of a user who must keep one is refused with a clear message."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.mail import mail, mail_server  # noqa: F401
from tests.passkey_authenticator import SoftAuthenticator

from .conftest import PHONE, last_code, make_user
from .helpers import recovery_form, totp_now
from .test_email import ADDRESS, NORMAL, _code, email_runtime  # noqa: F401
from .test_passkeys import ORIGIN, PASSKEYS, options_on

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def passkeys_on(otpgate_runtime: Any) -> Iterator[None]:
    with override_settings(**PASSKEYS):
        otpgate_runtime.reset()
        yield
    otpgate_runtime.reset()


@dataclass
class Flow:
    """How a user adds a factor on the pages, and the notices it shows."""

    factor: str
    added: str
    removed: str
    #: Adds the factor through the pages (the session passes it: fresh for the removal).
    add: Callable[[Client, Any, Any], None]
    #: The URL of its removal (confirmation) page, from the management page.
    remove_url: Callable[[str], str]
    #: Something the confirmation page shows of what is removed ("" for the app).
    shown: str


def _add_phone(client: Client, env: Any, _user: Any) -> None:
    assert client.post("/2fa/phone/add/", {"phone": PHONE})["Location"] == "/2fa/phone/verify/"
    done = client.post("/2fa/phone/verify/", {"code": last_code(env.outbox)})
    assert done["Location"] == "/2fa/"


def _add_email(client: Client, env: Any, _user: Any) -> None:
    assert client.post("/2fa/email/add/", {"email": ADDRESS})["Location"] == "/2fa/email/verify/"
    done = client.post("/2fa/email/verify/", {"code": _code(env.mail)})
    assert done["Location"] == "/2fa/"


def _add_app(client: Client, env: Any, _user: Any) -> None:
    page = client.post("/2fa/app/", {"action": "start"}).content.decode()
    key = re.search(r'id="otpgate-key">([^<]+)<', page).group(1).replace(" ", "")
    code = totp_now(key, env.clock())
    assert client.post("/2fa/app/", {"action": "confirm", "code": code})["Location"] == "/2fa/"


def _add_passkey(client: Client, env: Any, _user: Any) -> None:
    started = client.post("/2fa/passkey/add/", {"action": "start", "name": "Work laptop"})
    answer = SoftAuthenticator(ORIGIN).create(options_on(started.content.decode()))
    done = client.post("/2fa/passkey/add/", {"action": "finish", "credential": answer})
    assert done["Location"] == "/2fa/"


def _link(pattern: str) -> Callable[[str], str]:
    def found(page: str) -> str:
        match = re.search(pattern, page)
        assert match, f"no {pattern} on the management page"
        return match.group(0)

    return found


FLOWS = {
    "sms": Flow(
        "sms",
        "Phone number verified.",
        "Phone number removed.",
        _add_phone,
        _link(r"/2fa/phone/\d+/remove/"),
        "+33 ••• ••• 5678",
    ),
    "email": Flow(
        "email",
        "Email address verified.",
        "Email address removed.",
        _add_email,
        _link(r"/2fa/email/\d+/remove/"),
        "E••••@example.org",
    ),
    "totp": Flow(
        "totp",
        "Authenticator app set up.",
        "Authenticator app removed.",
        _add_app,
        _link(r"/2fa/app/remove/"),
        "",
    ),
    "webauthn": Flow(
        "webauthn",
        "Passkey added.",
        "Passkey removed.",
        _add_passkey,
        _link(r"/2fa/passkey/[^/\"]+/remove/"),
        "Work laptop",
    ),
}


@dataclass
class Env:
    outbox: Any
    clock: Any
    mail: Any
    gate: Any


@pytest.fixture
def env(request: pytest.FixtureRequest, outbox: Any, clock: Any, gate: Any) -> Env:
    found = None
    if "email" in request.node.name:
        request.getfixturevalue("email_runtime")
        found = request.getfixturevalue("mail")
    from otpgate.integrations.django import runtime

    return Env(outbox, clock, found, runtime.get_verifier())


def _has(env: Env, user: Any, factor: str) -> bool:
    return factor in {o.name for o in env.gate.offer(str(user.pk), "login")}


def _page(client: Client) -> str:
    return client.get("/2fa/").content.decode()


def _notices(page: str) -> list[str]:
    region = re.search(r'<div id="otpgate-status" role="status"[^>]*>(.*?)</div>', page, re.S)
    assert region, "no status region"
    return re.findall(r"<p[^>]*>([^<]+)</p>", region.group(1))


@pytest.mark.parametrize("factor", list(FLOWS))
def test_add_then_remove_with_notices_and_a_confirmation(client, env, factor):
    flow = FLOWS[factor]
    user = make_user(f"u{factor}")
    client.force_login(user)
    flow.add(client, env, user)
    assert _has(env, user, factor)
    first = _page(client)
    assert _notices(first) == [flow.added]  # announced in the role="status" region
    assert flow.added not in _page(client)  # once
    url = flow.remove_url(first)
    # The removal link opens the confirmation page; asking removes nothing.
    asked = client.get(url)
    text = asked.content.decode()
    assert asked.status_code == 200 and _has(env, user, factor)
    assert 'name="confirm" value="1"' in text and flow.shown in text
    assert 'id="otpgate-keep"' in text and 'href="/2fa/"' in text
    # A forged POST without the confirmation field asks again and keeps the factor.
    forged = client.post(url, {"next": ""})
    assert forged.status_code == 200 and 'name="confirm"' in forged.content.decode()
    assert _has(env, user, factor)
    # Cancelling (the link back) keeps it.
    assert flow.removed not in _page(client) and _has(env, user, factor)
    # Confirming removes it, with a notice shown once.
    done = client.post(url, {"confirm": "1"})
    assert done.status_code == 302 and done["Location"] == "/2fa/"
    assert not _has(env, user, factor)
    assert _notices(_page(client)) == [flow.removed]
    assert flow.removed not in _page(client)


@pytest.mark.parametrize("factor", ["sms", "totp"])
def test_notices_without_the_messages_middleware_use_the_session(client, env, factor):
    middleware = [m for m in settings.MIDDLEWARE if "messages" not in m]
    with override_settings(MIDDLEWARE=middleware):
        flow = FLOWS[factor]
        user = make_user(f"n{factor}")
        client.force_login(user)
        flow.add(client, env, user)
        page = _page(client)
        assert _notices(page) == [flow.added]
        assert flow.added not in _page(client)
        assert client.post(flow.remove_url(page), {"confirm": "1"}).status_code == 302
        assert _notices(_page(client)) == [flow.removed]


def test_the_last_factor_of_a_required_user_is_kept_with_a_clear_message(
    client, env, otpgate_runtime
):
    user = make_user("required")
    client.force_login(user)
    _add_phone(client, env, user)
    url = FLOWS["sms"].remove_url(_page(client))
    with override_settings(OTPGATE_REQUIRED="all", **PASSKEYS):
        otpgate_runtime.reset()
        message = "This is your last second factor; add another before removing it."
        asked = client.get(url)
        assert asked.status_code == 409 and message in asked.content.decode()
        refused = client.post(url, {"confirm": "1"})
        assert refused.status_code == 409 and message in refused.content.decode()
        assert _has(env, user, "sms")


def test_new_recovery_codes_say_the_old_ones_stopped_working(client, env):
    user = make_user("codes")
    client.force_login(user)
    _add_phone(client, env, user)
    _page(client)  # the "verified" notice is shown
    page = client.post("/2fa/recovery/", recovery_form(client)).content.decode()
    assert "New recovery codes made. The old ones no longer work." in page


def test_someone_elses_factor_has_no_confirmation_page(client, env):
    owner = make_user("owner")
    env.gate.credentials.add_phone(str(owner.pk), PHONE)
    pk = owner.otpgate_phones.get().pk
    client.force_login(make_user("other"))
    assert client.get(f"/2fa/phone/{pk}/remove/").status_code == 404
    assert client.post(f"/2fa/phone/{pk}/remove/", {"confirm": "1"}).status_code == 404
    assert owner.otpgate_phones.count() == 1
