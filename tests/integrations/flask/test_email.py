"""Email codes in the Flask integration, against a real SMTP server (aiosmtpd): the example
bank in chromium (an address added on the management page, then a sign-in completed by an
emailed code, at 375 and 1280 px), and the pages and JSON API through the test client with
``OTPGATE_EMAIL_SENDER = "smtp"`` and the ``OTPGATE_SMTP_*`` keys."""

# The SMTP server fixtures are imported, then requested by name:
# ruff: noqa: F811

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from otpgate import OutboxSender
from otpgate.gateways.smtp import SmtpConfig, SmtpSender
from tests.mail import MailServer, mail, mail_server  # noqa: F401

from .conftest import CSRF, PASSWORD, make_app
from .test_browser import browser, load_example  # noqa: F401

ADDRESS = "Bob.Stone@Example.ORG"
NORMAL = "Bob.Stone@example.org"


@pytest.fixture
def bank(tmp_path, mail: MailServer) -> Iterator[str]:
    sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "Demo Bank <bank@bank.example>", "none"))
    app = load_example().create_app(
        sender=OutboxSender(), instance_path=str(tmp_path), email_sender=sender
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _code(mail: MailServer) -> str:
    code = mail.last_code_for(NORMAL)
    assert code is not None, "no email was received"
    return code


@pytest.mark.parametrize("width", [375, 1280])
def test_bob_adds_an_address_then_signs_in_by_email(browser, bank, mail, width):
    browser.clear_cookies()
    page = browser.new_page()
    try:
        page.set_default_timeout(30_000)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(bank + "/login")
        page.get_by_label("User name").fill("bob")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()
        page.goto(bank + "/otp/")
        page.get_by_role("link", name="Add an email address").click()
        page.get_by_label("Email address").fill(ADDRESS)
        page.get_by_role("button", name="Send code").click()
        page.wait_for_url("**/otp/email")
        assert "B••••@example.org" in page.content() and NORMAL not in page.content()
        page.get_by_label("Code from the email").fill(_code(mail))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url("**/otp/")
        assert "B••••@example.org" in page.content()

        browser.clear_cookies()
        page.goto(bank + "/")
        page.get_by_label("User name").fill("bob")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/otp/verify*")
        page.get_by_role("button", name="Send code").click()
        box = page.get_by_label("Code from the email")
        assert box.get_attribute("autocomplete") == "one-time-code"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box.fill(_code(mail))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(bank + "/")
        assert "Balance" in page.content()
    finally:
        page.close()


@pytest.fixture
def harness(clock, outbox, mail: MailServer):
    return make_app(
        clock,
        outbox,
        OTPGATE_EMAIL_SENDER="smtp",
        OTPGATE_SMTP_HOST="127.0.0.1",
        OTPGATE_SMTP_PORT=str(mail.port),
        OTPGATE_SMTP_TLS="none",
        OTPGATE_SMTP_FROM="Acme <no-reply@acme.example>",
    )


def test_the_json_api_adds_an_address_and_the_second_step_offers_it(harness, mail):
    client = harness.client()
    client.post("/login", data={"username": "carol", "password": PASSWORD})
    answer = client.post("/otp/email", json={"email": ADDRESS}, headers={"X-CSRFToken": CSRF})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["challenge"]["masked_phone"] == "B••••@example.org"
    answer = client.post(
        "/otp/email/confirm", json={"code": _code(mail)}, headers={"X-CSRFToken": CSRF}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["factors"]["masked_emails"] == ["B••••@example.org"]
    assert mail.to(NORMAL)[-1].message["From"] == "Acme <no-reply@acme.example>"


def test_an_smtp_outage_is_a_502_and_a_bad_address_a_422(harness, mail):
    client = harness.client()
    client.post("/login", data={"username": "carol", "password": PASSWORD})
    headers = {"X-CSRFToken": CSRF}
    answer = client.post("/otp/email", json={"email": "not an address"}, headers=headers)
    assert (answer.status_code, answer.get_json()["code"]) == (422, "email_invalid")
    mail.fail_with = "451 4.3.0 try again later"
    answer = client.post("/otp/email", json={"email": ADDRESS}, headers=headers)
    assert (answer.status_code, answer.get_json()["code"]) == (502, "delivery_failed")
