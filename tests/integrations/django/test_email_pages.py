"""Email codes in the Django integration without a browser, against a real SMTP server
(aiosmtpd): an outage is a typed answer (502 page) and nothing is lost; the async verifier
sends and checks email codes with the ORM credentials."""

# The SMTP server fixtures are imported, then requested by name:
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.mail import MailServer, mail, mail_server  # noqa: F401

from .conftest import PASSWORD, make_user
from .test_email import ADDRESS, NORMAL, _code, email_runtime  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_smtp_outage_is_an_error_page_not_a_500(client, email_runtime, mail):
    person = make_user("frank")
    subject = str(person.pk)
    email_runtime.get_verifier().credentials.add_email(subject, NORMAL)
    mail.fail_with = "451 4.3.0 try again later"  # the server is in trouble at sign-in
    client.post("/accounts/login/", {"username": "frank", "password": PASSWORD})
    answer = client.get("/2fa/verify/")
    assert answer.status_code == 200
    assert "could not be sent" in answer.content.decode()
    answer = client.post("/2fa/verify/", {"method": "email", "action": "resend"})
    assert answer.status_code == 502  # still down: a typed answer, never a 500
    mail.fail_with = ""
    answer = client.post("/2fa/verify/", {"method": "email", "action": "resend"})
    assert answer.status_code == 200, answer.content.decode()[-3000:]
    answer = client.post("/2fa/verify/", {"method": "email", "code": _code(mail)})
    assert answer.status_code == 302


async def test_the_async_verifier_sends_and_checks_email_codes(email_runtime, mail):
    from asgiref.sync import sync_to_async

    person = await sync_to_async(make_user)("gina")
    sync = await sync_to_async(email_runtime.get_verifier)()
    gate = email_runtime.get_async_verifier()
    setup = await gate.setup(str(person.pk), "email", destination=ADDRESS)
    await gate.verify(
        str(person.pk), "email", _code(mail), purpose="enroll", challenge_id=setup.challenge.id
    )
    assert (await gate.factors(str(person.pk))).masked_emails == ("E••••@example.org",)
    factors = await sync_to_async(sync.factors)(str(person.pk))
    assert factors.masked_emails == ("E••••@example.org",)
