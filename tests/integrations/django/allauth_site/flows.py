"""A django-allauth site with otpgate's second step, end to end.

Run by ``tests/integrations/django/test_allauth.py`` in a pytest process of its own, with
``DJANGO_SETTINGS_MODULE=tests.integrations.django.allauth_site.settings`` (allauth's apps
and tables stay out of the shared test settings). By hand::

    DJANGO_SETTINGS_MODULE=tests.integrations.django.allauth_site.settings \\
        python -m pytest -p no:cacheprovider tests/integrations/django/allauth_site/flows.py
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.signals import user_logged_in as allauth_logged_in
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import checks
from django.test import override_settings

from otpgate.integrations.django.allauth import STAGE
from tests.browser import ARGS, CHROMIUM

from ..conftest import PASSWORD, PHONE, last_code, make_user
from ..helpers import totp_now
from .oidc import CLIENT_ID, CLIENT_SECRET, Provider

pytestmark = pytest.mark.django_db(transaction=True)
VERIFY = "/2fa/verify/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium; the ORM is used in the test thread between browser calls only
    (Playwright's sync API keeps an event loop there, see ../test_browser.py)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="en-US"
            )
            yield context
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    tab.close()


@pytest.fixture
def logins() -> Iterator[list[Any]]:
    """The users allauth's own ``user_logged_in`` announced (its post-login ran)."""
    seen: list[Any] = []

    def receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        seen.append(user.get_username())

    allauth_logged_in.connect(receiver, dispatch_uid="otpgate-allauth-test")
    yield seen
    allauth_logged_in.disconnect(dispatch_uid="otpgate-allauth-test")


@pytest.fixture
def alice(db: Any, gate: Any) -> Any:
    person = make_user("alice")
    gate.credentials.add_phone(str(person.pk), PHONE)
    return person


@pytest.fixture
def idp() -> Iterator[Provider]:
    with Provider() as provider:
        yield provider


@pytest.fixture
def bob(db: Any, gate: Any, clock: Any, idp: Provider) -> tuple[Any, str]:
    """A user with an authenticator app who signs in with the fake IdP's account."""
    from allauth.socialaccount.models import SocialAccount, SocialApp

    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="fake",
        name="Fake IdP",
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        settings={"server_url": idp.url},
    )
    person = make_user("bob")
    SocialAccount.objects.create(user=person, provider=app.provider_id, uid=idp.subject)
    secret = gate.totp.enroll(str(person.pk)).secret
    gate.totp.confirm(str(person.pk), totp_now(secret, clock()))
    clock.advance(30)  # the next code is a new one
    return person, secret


def _password_step(client: Any, username: str, **extra: Any) -> Any:
    data = {"login": username, "password": PASSWORD, **extra}
    return client.post("/accounts/login/?next=/?from=login", data)


def test_nothing_is_signed_in_before_the_second_step(client, alice, outbox, logins):
    answer = _password_step(client, "alice")
    assert answer.status_code == 302 and answer["Location"] == VERIFY
    assert SESSION_KEY not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")
    wrong = client.post(VERIFY, {"action": "verify", "code": "000000"})
    assert wrong.status_code == 400 and SESSION_KEY not in client.session
    done = client.post(VERIFY, {"action": "verify", "code": last_code(outbox)})
    assert done["Location"] == "/?from=login"  # allauth's redirect, with its next
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert "account_login" not in client.session  # allauth's held sign-in is done
    assert client.get("/").status_code == 200
    assert logins == ["alice"]


def test_the_session_id_changes_at_each_step(client, alice, outbox):
    session = client.session  # a session from before the sign-in (a fixation attempt)
    session["seen"] = True
    session.save()
    first = client.cookies["sessionid"].value
    _password_step(client, "alice")
    held = client.cookies["sessionid"].value
    client.post(VERIFY, {"action": "verify", "code": last_code(outbox)})
    assert len({first, held, client.cookies["sessionid"].value}) == 3


def test_remember_me_unchecked_still_ends_with_the_browser(client, alice, outbox):
    _password_step(client, "alice")
    client.post(VERIFY, {"action": "verify", "code": last_code(outbox)})
    assert client.session.get_expire_at_browser_close()
    client.logout()
    _password_step(client, "alice", remember="on")
    client.post(VERIFY, {"action": "verify", "code": last_code(outbox)})
    assert not client.session.get_expire_at_browser_close()


@override_settings(OTPGATE_REMEMBER_DEVICE=True)
def test_a_remembered_device_lets_allauth_sign_in_without_the_step(client, alice, outbox, logins):
    _password_step(client, "alice")
    code = last_code(outbox)
    client.post(VERIFY, {"action": "verify", "code": code, "remember_device": "1"})
    assert "otpgate_device" in client.cookies and logins == ["alice"]
    client.post("/accounts/logout/")
    assert SESSION_KEY not in client.session
    sent = len(outbox.messages)
    answer = _password_step(client, "alice")
    assert answer["Location"] == "/?from=login"  # allauth's own redirect, no second step
    assert client.session[SESSION_KEY] == str(alice.pk) and logins == ["alice", "alice"]
    assert len(outbox.messages) == sent  # no code was sent
    assert client.get("/").status_code == 200  # the middleware counts the device
    client.post("/accounts/logout/")
    client.cookies["otpgate_device"] = "forged." + client.cookies["otpgate_device"].value
    held = _password_step(client, "alice")  # a tampered cookie: the step asks again
    assert held["Location"] == VERIFY and SESSION_KEY not in client.session


def test_a_user_without_a_factor_is_signed_in_by_allauth_at_once(client, db, logins):
    make_user("carol")
    answer = _password_step(client, "carol")
    assert answer["Location"] == "/?from=login" and SESSION_KEY in client.session
    assert logins == ["carol"]


def test_cancel_signs_out_and_allauth_shows_its_form_again(client, alice):
    _password_step(client, "alice")
    assert client.get("/accounts/login/")["Location"] == VERIFY  # allauth resumes the step
    gone = client.post("/2fa/verify/cancel/")
    assert gone["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session and "account_login" not in client.session
    assert client.get("/accounts/login/").status_code == 200


def test_a_stale_second_step_starts_over_without_a_loop(client, alice, outbox, clock, gate):
    _password_step(client, "alice")
    clock.advance(gate.settings.login_step_timeout + 1)
    restart = client.get(VERIFY)
    assert restart["Location"] == "/accounts/login/"
    assert "account_login" not in client.session
    assert client.get("/accounts/login/").status_code == 200  # the form, not the step


def test_a_code_after_allauth_forgot_the_sign_in_signs_nobody_in(client, alice, outbox):
    _password_step(client, "alice")
    with override_settings(ACCOUNT_LOGIN_TIMEOUT=-1):
        answer = client.post(VERIFY, {"action": "verify", "code": last_code(outbox)})
    assert answer["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_json_api_hands_over_to_allauth_too(client, alice, outbox, logins):
    _password_step(client, "alice")
    answer = client.post(
        "/2fa/api/check",
        {"code": last_code(outbox), "method": "sms"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["next"] == "/?from=login"
    assert client.session[SESSION_KEY] == str(alice.pk) and logins == ["alice"]


def test_the_stage_runs_after_allauths_own():
    from allauth.account.adapter import get_adapter

    stages = get_adapter().get_login_stages()
    assert stages[-1] == STAGE and stages.count(STAGE) == 1
    assert "allauth.account.stages.EmailVerificationStage" in stages


def _ids() -> set[str]:
    return {message.id for message in checks.run_checks(tags=["otpgate"])}


def test_the_checks_accept_this_site():
    assert not {"otpgate.W006", "otpgate.W007"} & _ids()


def test_a_check_explains_allauth_mfa_beside_the_stage():
    apps = [*settings.INSTALLED_APPS, "allauth.mfa"]
    with override_settings(INSTALLED_APPS=apps):
        found = [m for m in checks.run_checks(tags=["otpgate"]) if m.id == "otpgate.W006"]
    assert len(found) == 1
    assert "two second steps" in found[0].msg and "allauth.mfa" in found[0].hint


def test_a_check_names_the_adapter_when_the_stage_is_missing():
    with override_settings(ACCOUNT_ADAPTER="allauth.account.adapter.DefaultAccountAdapter"):
        assert "otpgate.W007" in _ids()


# The browser last: Playwright's loop stays in this thread until the module ends.


def test_password_sign_in_then_the_second_step_then_home_in_the_browser(
    page, live_server, alice, outbox, logins
):
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert logins == []  # allauth has not logged the session in
    page.goto(live_server.url + "/")  # still anonymous: back to allauth, which resumes here
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    page.get_by_label("Verification code").fill(last_code(outbox))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading").inner_text() == "Home of alice"
    assert "Successfully signed in as alice." in page.content()  # allauth's post-login
    assert logins == ["alice"]


def test_a_social_login_gets_the_same_second_step_in_the_browser(
    page, live_server, bob, idp, clock, logins
):
    _user, secret = bob
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Fake IdP").click()
    page.get_by_role("button", name="Continue").click()  # allauth's "sign in via" page
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert {"/authorize", "/token", "/userinfo"} <= set(idp.seen)
    assert logins == []
    assert "authenticator app" in page.content()
    page.get_by_label("Verification code").fill(totp_now(secret, clock()))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading").inner_text() == "Home of bob"
    assert logins == ["bob"]
