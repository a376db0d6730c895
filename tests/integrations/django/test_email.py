"""Email codes in the Django integration, against a real SMTP server (aiosmtpd): an address
added on the management pages (its code read from the server), then a sign-in completed by an
emailed code in chromium, at 375 and 1280 px; and the same flow through the ORM-backed async
verifier."""

# The SMTP server fixtures are imported, then requested by name:
# ruff: noqa: F811

from __future__ import annotations

import re
from typing import Any

import pytest

from otpgate import MemoryStore
from otpgate.gateways.smtp import SmtpConfig, SmtpSender
from tests.mail import MailServer, mail, mail_server  # noqa: F401

from .conftest import PASSWORD, make_user
from .test_browser import browser, page  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "Erin.Doe@Example.ORG"
NORMAL = "Erin.Doe@example.org"


@pytest.fixture
def email_runtime(otpgate_runtime: Any, clock: Any, outbox: Any, mail: MailServer) -> Any:
    """The verifiers of the autouse fixture, with an SMTP email sender to the test server."""
    sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "Acme <no-reply@acme.example>", "none"))
    otpgate_runtime.configure(
        clock=clock, sender=outbox, store=MemoryStore(clock=clock), email_sender=sender
    )
    return otpgate_runtime


def _code(mail: MailServer) -> str:
    code = mail.last_code_for(NORMAL)
    assert code is not None, "no email was received"
    return code


@pytest.mark.parametrize("width", [375, 1280])
def test_add_an_address_then_sign_in_by_email(page, live_server, email_runtime, mail, width):
    make_user(f"erin{width}")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(f"erin{width}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.goto(live_server.url + "/2fa/")
    page.get_by_role("link", name="Add an email address").click()
    field = page.get_by_label("Email address")
    assert field.get_attribute("autocomplete") == "email"
    field.fill(ADDRESS)
    page.get_by_role("button", name="Send code").click()
    page.wait_for_url(re.compile(r".*/2fa/email/verify/.*"))
    assert "E••••@example.org" in page.content() and NORMAL not in page.content()
    page.get_by_label("Verification code").fill(_code(mail))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r".*/2fa/$"))
    assert "E••••@example.org" in page.content()

    page.context.clear_cookies()
    page.goto(live_server.url + "/secret/")
    page.get_by_label("Username").fill(f"erin{width}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert "We sent a code by email to" in page.content()  # sent on arrival, like an SMS
    field = page.get_by_label("Verification code")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    received = mail.to(NORMAL)[-1]
    assert received.code in received.subject and received.body("html")
    field.fill(_code(mail))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/secret/")
    assert "PROTECTED step-up" in page.content()
