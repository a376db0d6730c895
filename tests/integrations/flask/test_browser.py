"""End to end in Debian's chromium: the example bank on a loopback port, sign-in with an SMS
second factor, then a transfer confirmed by a code bound to its amount and payee. The codes
are read from the outbox sender. Screenshots (English, Chinese) land in /tmp."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from otpgate import OutboxSender
from tests.browser import ARGS, CHROMIUM, code_columns

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "flask_app" / "app.py"
PHONE = "+447911123456"
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """tests/browser.py's browser, but for this module only: Playwright's sync API keeps an
    event loop running while it lives, which would break every async test run after it."""
    import shutil
    import tempfile

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="en-US"
        )
        yield context
        context.close()


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("otpgate_flask_bank_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bank(tmp_path) -> Iterator[tuple[str, OutboxSender]]:
    outbox = OutboxSender()
    app = load_example().create_app(sender=outbox, instance_path=str(tmp_path))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", outbox
    server.shutdown()
    thread.join(5)


def sign_in(page, base: str, outbox: OutboxSender, next_path: str = "/") -> None:
    page.goto(base + next_path)
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/otp/verify")


def test_step_up_protected_transfer_end_to_end(page, bank):
    base, outbox = bank
    sign_in(page, base, outbox, "/transfer")
    assert "+44\u00a0•••\u00a0•••\u00a03456" in page.locator("main").text_content()
    page.get_by_role("button", name="Send code").click()
    page.wait_for_url("**/otp/verify?method=sms")
    code_box = page.get_by_label("Code from the text message")
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    assert code_box.get_attribute("inputmode") == "numeric"
    assert page.get_by_role("button", name="Send a new code").is_disabled()  # cooldown
    assert page.get_by_text("You can request a new code in").is_visible()
    page.screenshot(path=str(SHOTS / "otpgate-flask-verify-en.png"), full_page=True)
    code_box.fill("000000" if outbox.last_code_for(PHONE) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("alert").inner_text().startswith("That code is not correct.")
    page.get_by_label("Code from the text message").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/transfer")  # back where the sign-in started

    page.get_by_label("Payee").fill("Bob Martin")
    page.get_by_label("Amount (EUR)").fill("250")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Confirm the transaction").wait_for()
    # the summary, a noun phrase, starts the page's sentence with a capital (CSS)
    assert page.locator(".summary").inner_text() == "Payment of 250.00 EUR to Bob Martin"
    sms = outbox.messages_to(PHONE)[-1]
    assert "confirms payment of 250.00 EUR to Bob Martin" in sms.text
    page.screenshot(path=str(SHOTS / "otpgate-flask-confirm-en.png"), full_page=True)
    page.get_by_label("Code from the text message").fill(sms.code)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("status").inner_text() == "Sent 250.00 EUR to Bob Martin."
    assert "Balance: 750.00 EUR" in page.content()
    page.screenshot(path=str(SHOTS / "otpgate-flask-done-en.png"), full_page=True)


def test_an_app_only_user_confirms_a_transfer_with_the_app(page, bank):
    """bob has no phone: he sets up an authenticator app, then confirms a transfer with an
    app code on a page that asks for it (no "Send a new code"); no SMS is ever sent."""
    import time

    import pyotp

    base, outbox = bank
    page.goto(base + "/login")
    page.get_by_label("User name").fill("bob")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/otp/")  # no factor yet: the bank sends him to set one up
    page.get_by_role("button", name="Set up an authenticator app").click()
    totp = pyotp.TOTP(page.locator("code.key").inner_text().replace(" ", ""))
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Authenticator app set up.").wait_for()

    page.goto(base + "/transfer")
    page.get_by_label("Payee").fill("Carol Jones")
    page.get_by_label("Amount (EUR)").fill("100")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Confirm the transaction").wait_for()
    assert page.locator(".summary").inner_text() == "Payment of 100.00 EUR to Carol Jones"
    assert "enter the code from your authenticator app" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Send a new code").count() == 0
    assert page.get_by_role("button", name="Cancel").is_visible()
    page.screenshot(path=str(SHOTS / "otpgate-flask-confirm-app-en.png"), full_page=True)
    # the sign-up spent this time step's code: the next step's (the app shows it soon)
    page.get_by_label("Code from your authenticator app").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("status").inner_text() == "Sent 100.00 EUR to Carol Jones."
    assert outbox.messages == []


def test_pages_in_chinese(page, bank):
    base, outbox = bank
    page.context.add_cookies([{"name": "lang", "value": "zh-CN", "url": base}])
    sign_in(page, base, outbox)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("短信中的验证码").wait_for()
    page.screenshot(path=str(SHOTS / "otpgate-flask-verify-zh.png"), full_page=True)
    page.get_by_label("短信中的验证码").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="验证", exact=True).click()
    page.wait_for_url(base + "/")
    page.goto(base + "/otp/")
    assert page.get_by_role("heading", name="两步验证").is_visible()
    page.get_by_role("button", name="设置身份验证器应用").click()
    page.get_by_label("身份验证器应用中的验证码").wait_for()
    assert page.locator("figure svg").is_visible()
    page.screenshot(path=str(SHOTS / "otpgate-flask-totp-zh.png"), full_page=True)


def test_recovery_codes_and_cards_hold_their_layout_on_a_phone(page, bank):
    """Each recovery code stays on one line with room for the next column's numbers (they
    used to overlap the codes), and on a phone the card keeps a margin from the screen's
    edges."""
    base, outbox = bank
    sign_in(page, base, outbox)
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the text message").fill(outbox.last_code_for(PHONE))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/otp/")
    page.get_by_role("button", name="Make new recovery codes").click()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        layout = code_columns(page, ".codes li")
        assert layout["count"] == 10 and layout["lines"] == 1, layout
        assert layout["closest"] >= layout["marker"], layout  # "10. " fits between columns
    card = page.locator("main").bounding_box()
    assert card["x"] >= 8 and card["x"] + card["width"] <= 375 - 8, card
