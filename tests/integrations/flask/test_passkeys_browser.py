"""Passkeys in Debian's chromium against a live Flask app (werkzeug on a loopback port,
opened as ``http://localhost``), answered by Chromium's virtual authenticator over CDP
(tests/webauthn_browser.py): add one on the management page, sign in with it, step up with
it, confirm a transfer with it (the page shows what is approved), remove it (a fresh second
factor, then a confirmation step); and refused: an answer from an origin the app does not
list, a replayed answer, an authenticator whose counter went backwards."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from werkzeug.serving import make_server

from otpgate import MemoryCredentials, MemoryStore, OutboxSender
from tests.a11y import WIDTHS, describe, serious
from tests.browser import ARGS, CHROMIUM
from tests.conftest import FakeClock
from tests.webauthn_browser import VirtualAuthenticator, recorded_posts, without_json_helpers

from .conftest import PASSWORD, Harness, make_app

REJECTED = "That passkey could not be verified."
SHOTS = "/tmp/otpgate-flask-passkey-{}.png"
TRANSFER_FORM = (
    "<!doctype html><title>Transfer</title><form method=post action=/transfer>"
    "<label>Amount <input name=amount></label><label>Payee <input name=payee></label>"
    "<button>Transfer</button></form>"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """tests/browser.py's chromium, for this module only (Playwright's sync API keeps an
    event loop running while it lives, which would break later async tests)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="en-US"
        )
        yield context
        context.close()


@dataclass
class Site:
    """The app on a live server; ``configure`` swaps in the same app with other origins
    (same store, credentials, clock and secret key: sessions carry over)."""

    url: str
    clock: FakeClock
    outbox: OutboxSender
    events: list[Any]
    build: Callable[..., Harness]
    serving: dict[str, Harness] = field(default_factory=dict)

    @property
    def harness(self) -> Harness:
        return self.serving["app"]

    def configure(self, *origins: str) -> None:
        self.serving["app"] = self.build(origins)


@pytest.fixture
def site() -> Iterator[Site]:
    clock, outbox = FakeClock(), OutboxSender()
    store, credentials, events = MemoryStore(clock=clock), MemoryCredentials(), []
    serving: dict[str, Harness] = {}

    def wsgi(environ: Any, start_response: Any) -> Any:
        return serving["app"].app(environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://localhost:{server.server_port}"

    def build(origins: tuple[str, ...]) -> Harness:
        harness = make_app(
            clock,
            outbox,
            credentials=credentials,
            store=store,
            OTPGATE_WEBAUTHN_RP_ID="localhost",
            OTPGATE_WEBAUTHN_ORIGINS=",".join(origins),
        )
        harness.app.add_url_rule("/transfer-form", "transfer_form", lambda: TRANSFER_FORM)
        with harness.app.app_context():
            harness.gate.verifier.subscribe(events.append)
        return harness

    found = Site(url, clock, outbox, events, build, serving)
    found.configure(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    thread.join(5)


@pytest.fixture
def tab(browser: Any) -> Iterator[tuple[Any, VirtualAuthenticator]]:
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(15_000)
    authenticator = VirtualAuthenticator(browser, page)
    yield page, authenticator
    authenticator.close()
    page.close()


def sign_in(page: Any, site: Site, user: str, target: str = "/account") -> None:
    """The app's password step (a POST, as its login form would), then where it leads:
    the second step, or ``target`` for a user with no factor."""
    answer = page.request.post(
        f"{site.url}/login?next={target}",
        form={"username": user, "password": PASSWORD},
        max_redirects=0,
    )
    assert answer.status in (302, 303), answer.text()
    page.goto(site.url + answer.headers["location"].removeprefix(site.url))


def add_passkey(page: Any, site: Site, name: str) -> None:
    page.goto(site.url + "/otp/passkey")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Continue").click()
    # the page's script intercepts the button's submit: a click before it ran would post an
    # empty answer (a slow machine's race, not a user's: the script loads with the page)
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_url(site.url + "/otp/")


def fits(page: Any, name: str) -> None:
    """The page fits a phone (375 px) and a desktop (1280 px) with no sideways scrolling."""
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        page.screenshot(path=SHOTS.format(f"{name}-{width}"), full_page=True)


def passkey_user(page: Any, site: Site, user: str = "bob") -> None:
    """``user`` (no factor yet) signs in with a password and adds a passkey."""
    sign_in(page, site, user, target="/dashboard")
    add_passkey(page, site, "Work laptop")
    page.context.clear_cookies()


def test_register_sign_in_step_up_confirm_and_remove(tab, site):
    page, authenticator = tab
    sign_in(page, site, "bob", target="/dashboard")
    page.goto(site.url + "/otp/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")  # the script that intercepts the submit has run
    page.screenshot(path=SHOTS.format("create"), full_page=True)
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_url(site.url + "/otp/")
    listing = page.locator("section", has=page.get_by_role("heading", name="Passkeys"))
    assert "Work laptop" in listing.inner_text() and "Never used" in listing.inner_text()
    fits(page, "manage")
    assert authenticator.only_credential().rp_id == "localhost"

    page.context.clear_cookies()
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.screenshot(path=SHOTS.format("verify"), full_page=True)
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(site.url + "/account")
    assert "second factor passed" in page.content()

    site.clock.advance(600)  # /settings wants a second factor within 300 s
    page.goto(site.url + "/settings")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(site.url + "/settings")
    assert "sensitive settings" in page.content()

    page.goto(site.url + "/transfer-form")
    page.get_by_label("Amount").fill("250")
    page.get_by_label("Payee").fill("Bob Martin")
    page.get_by_role("button", name="Transfer").click()
    page.get_by_role("heading", name="Confirm the transaction").wait_for()
    assert page.locator(".summary").inner_text() == "Pay 250 EUR to Bob Martin"
    page.screenshot(path=SHOTS.format("confirm"), full_page=True)
    page.get_by_role("button", name="Approve with your passkey").click()
    page.get_by_text('"status":"executed"').wait_for()
    assert site.harness.executed == [{"amount": "250", "payee": "Bob Martin"}]
    assert site.outbox.messages == []

    page.goto(site.url + "/otp/")
    assert "Last used" in listing.inner_text()
    site.clock.advance(600)
    page.get_by_role("link", name="Remove Work laptop").click()
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url("**/otp/passkey/remove**")
    assert page.locator("#otpgate-removed").inner_text() == "Work laptop"
    fits(page, "remove")
    page.get_by_role("button", name="Remove “Work laptop”").click()
    page.wait_for_url(site.url + "/otp/")
    assert "No passkey yet." in listing.inner_text()
    names = [event.name.value for event in site.events]
    assert "factor_added" in names and "factor_removed" in names


def test_an_answer_from_an_origin_the_app_does_not_list_is_refused(tab, site):
    page, _authenticator = tab
    passkey_user(page, site)
    site.configure("http://localhost:1")
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.get_by_text(REJECTED).wait_for()
    page.goto(site.url + "/account")
    assert "second factor passed" not in page.content()


def test_a_replayed_answer_is_refused(tab, site):
    page, _authenticator = tab
    passkey_user(page, site)
    posts = recorded_posts(page, "/otp/verify")
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(site.url + "/account")
    answer = dict(parse_qsl(posts[-1]["body"]))["code"]

    page.context.clear_cookies()
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    form = page.locator("form[data-otpgate-webauthn]")
    form.locator("input[name=code]").evaluate("(box, value) => { box.value = value; }", answer)
    form.evaluate("form => form.submit()")
    page.get_by_text(REJECTED).wait_for()
    page.get_by_role("button", name="Use your passkey").click()  # a new challenge: works
    page.wait_for_url(site.url + "/account")

    confirms = recorded_posts(page, "/transfer")
    page.goto(site.url + "/transfer-form")
    page.get_by_label("Amount").fill("99")
    page.get_by_label("Payee").fill("Mallory")
    page.get_by_role("button", name="Transfer").click()
    page.get_by_role("button", name="Approve with your passkey").click()
    page.get_by_text('"status":"executed"').wait_for()
    approved = confirms[-1]
    again = page.request.post(
        approved["url"],
        data=urlencode(parse_qsl(approved["body"])),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.status == 409 and '"status":"executed"' not in again.text()
    assert site.harness.executed == [{"amount": "99", "payee": "Mallory"}]


def test_a_counter_that_went_backwards_is_refused_and_reported(tab, site):
    page, authenticator = tab
    passkey_user(page, site)
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(site.url + "/account")
    stored = authenticator.only_credential()
    authenticator.set_sign_count(stored.credential_id, 0)

    page.context.clear_cookies()
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.get_by_text(REJECTED).wait_for()
    assert "passkey_counter_regression" in [event.name.value for event in site.events]


def in_chinese(route: Any) -> None:
    route.continue_(headers={**route.request.headers, "accept-language": "zh-CN,zh;q=0.9"})


def test_pages_fit_a_phone_and_a_desktop_without_the_json_helpers(browser, site):
    """In a browser without PublicKeyCredential's JSON helpers (the script's fallback), the
    passkey pages work and fit 375 px and 1280 px; in Chinese, they speak Chinese."""
    browser.clear_cookies()
    page = browser.new_page()
    page.add_init_script(without_json_helpers())
    authenticator = VirtualAuthenticator(browser, page)
    try:
        passkey_user(page, site)
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            sign_in(page, site, "bob")
            page.wait_for_url("**/otp/verify**")
            found = page.get_by_role("button", name="Use your passkey")
            found.wait_for()
            box = found.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=SHOTS.format(f"verify-{width}"), full_page=True)
            page.context.clear_cookies()
        page.route("**/*", in_chinese)
        sign_in(page, site, "bob")
        page.wait_for_url("**/otp/verify**")
        page.get_by_role("button", name="使用通行密钥").click()
        page.wait_for_url(site.url + "/account")
    finally:
        authenticator.close()
        page.close()


def test_a_second_passkey_on_the_same_device_says_the_device_has_one(tab, site):
    """The authenticator already holds a passkey of this account (excludeCredentials: the
    browser raises InvalidStateError): the page says so, not "try again", which never works."""
    page, authenticator = tab
    passkey_user(page, site)
    sign_in(page, site, "bob")
    page.wait_for_url("**/otp/verify**")
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(site.url + "/account")
    for lang, said in [("en", "This device already has a passkey"), ("ar", "مفتاح مرور لهذا")]:
        agent = page.evaluate("navigator.userAgent")  # the page's language, as a user sets it
        authenticator.cdp.send(
            "Network.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": lang}
        )
        page.goto(site.url + "/otp/passkey")
        page.locator("#otpgate-passkey-name").fill("Same laptop")
        page.locator("form button[type=submit]").click()
        page.locator("#otpgate-webauthn").click()
        alert = page.get_by_role("alert").filter(has_text=said)
        alert.wait_for()
        if lang == "en":
            assert "use another device or a security key" in alert.inner_text()
        assert page.locator("#otpgate-webauthn-error").is_hidden()  # not "try again"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            bad = serious(page)
            assert not bad, f"{lang} at {width} px:\n{describe(bad)}"
    assert len(authenticator.credentials()) == 1
    with site.harness.app.app_context():
        assert len(site.harness.gate.verifier.passkeys.list("bob")) == 1
