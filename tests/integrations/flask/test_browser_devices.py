""" "Don't ask again on this device" in chromium against a real Flask server: the ticked box
sets the device cookie; the next sign-in skips the second step (step-up still asks); the
management page lists and forgets devices; a factor change and a password change void them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import request
from flask_login import current_user, login_required
from werkzeug.serving import make_server

from otpgate import OutboxSender
from tests.browser import browser  # noqa: F401  (one browser for this module)
from tests.conftest import PHONE

from .conftest import PASSWORD, Harness, make_app

SIGN_IN_PAGE = """<!doctype html><html lang="en"><title>Sign in</title><main>
<form method="post" action="/login?next={next}">
<label for="u">User name</label><input id="u" name="username">
<label for="p">Password</label><input id="p" name="password" type="password">
<button type="submit">Sign in</button></form>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<form method="post" action="/password"><button type="submit">Change password</button></form>
</main></html>"""


class RealClock:
    def __call__(self) -> float:
        import time

        return time.time()


@pytest.fixture
def site() -> Iterator[tuple[str, Harness]]:
    outbox = OutboxSender()
    harness = make_app(RealClock(), outbox, OTPGATE_REMEMBER_DEVICE=True)  # type: ignore[arg-type]
    app = harness.app

    @app.get("/signin")
    def signin() -> Any:
        return SIGN_IN_PAGE.format(next=request.args.get("next", "/account"))

    @app.post("/password")
    @login_required
    def change_password() -> Any:
        harness.gate.forget_devices(current_user)  # the documented hook
        return "password changed"

    with app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", harness
    server.shutdown()
    thread.join(5)


def password_step(page: Any, base: str, next_path: str = "/account") -> None:
    page.goto(f"{base}/signin?next={next_path}")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def second_step(page: Any, harness: Harness, *, remember: bool) -> None:
    page.wait_for_url("**/otp/verify")
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the text message").fill(harness.last_code())
    box = page.get_by_label("Don't ask again on this device for 30 days")
    assert not box.is_checked()  # off unless ticked
    if remember:
        box.check()
    page.get_by_role("button", name="Verify").click()


def sign_out(page: Any, base: str) -> None:
    page.goto(f"{base}/signin")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("bye").wait_for()


def device_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "otpgate_device"), None)


def asks_second_step_again(page: Any, base: str) -> bool:
    sign_out(page, base)
    password_step(page, base)
    page.wait_for_url(lambda url: url.endswith("/account") or url.endswith("/otp/verify"))
    return page.url.endswith("/otp/verify")


def test_a_remembered_browser_skips_the_sign_in_step_until_revoked(page, site):
    base, harness = site
    password_step(page, base)
    second_step(page, harness, remember=True)
    page.wait_for_url(f"{base}/account")
    cookie = device_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain http here; Secure when the request is https
    sent = len(harness.outbox.messages)

    sign_out(page, base)
    password_step(page, base)
    page.wait_for_url(f"{base}/account")  # no second step
    assert page.get_by_text("account (second factor passed)").is_visible()
    assert len(harness.outbox.messages) == sent  # no code sent

    page.goto(f"{base}/settings")  # step-up still asks
    page.wait_for_url(lambda url: "/otp/verify?next=" in url)
    assert page.get_by_role("heading", name="Confirm it's you").is_visible()
    assert page.get_by_label("Don't ask again on this device for 30 days").count() == 0

    page.goto(f"{base}/otp/")
    section = page.get_by_role("region", name="Remembered devices")
    assert "Chrome on Linux" in section.inner_text()
    assert "127.0.0.0/24" in section.inner_text()
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path="/tmp/otpgate-flask-devices-en.png", full_page=True)
    section.get_by_role("button", name="Forget Chrome on Linux").click()
    page.get_by_text("The device will be asked for a code again.").wait_for()
    assert page.locator("#otpgate-no-devices").is_visible()
    assert asks_second_step_again(page, base)


def test_a_factor_change_voids_the_remembered_browser(page, site):
    base, harness = site
    password_step(page, base)
    second_step(page, harness, remember=True)
    page.wait_for_url(f"{base}/account")
    page.goto(f"{base}/otp/")
    page.get_by_role("button", name="Make new recovery codes").click()  # a factor change
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert asks_second_step_again(page, base)


def test_a_password_change_voids_the_remembered_browser(page, site):
    base, harness = site
    password_step(page, base)
    second_step(page, harness, remember=True)
    page.wait_for_url(f"{base}/account")
    page.goto(f"{base}/signin")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("password changed").wait_for()
    assert asks_second_step_again(page, base)


def test_forget_all_asks_for_confirmation(page, site):
    base, harness = site
    password_step(page, base)
    second_step(page, harness, remember=True)
    page.wait_for_url(f"{base}/account")
    page.goto(f"{base}/otp/")
    page.get_by_role("button", name="Forget all devices").click()
    assert page.url.endswith("/otp/")  # the required box stopped the form
    page.get_by_label("Yes, ask every device for a code again").check()
    page.get_by_role("button", name="Forget all devices").click()
    page.get_by_text("Every device will be asked for a code again.").wait_for()
    assert asks_second_step_again(page, base)


def test_without_the_box_nothing_is_remembered(page, site):
    base, harness = site
    password_step(page, base)
    second_step(page, harness, remember=False)
    page.wait_for_url(f"{base}/account")
    assert device_cookie(page) is None
    assert asks_second_step_again(page, base)
