"""The demo bank (examples/flask_app): the same amount to the same payee twice is two
transfers. Equal details are one transaction (executed once), so each transfer form carries
a reference of its own; without it the second transfer answered "already completed"."""

from __future__ import annotations

import re

from otpgate import OutboxSender

from .test_browser import PHONE, load_example


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _transfer(client, outbox: OutboxSender) -> str:
    form = client.get("/transfer").text
    reference = re.search(r'name="reference" value="([0-9a-f]+)"', form)
    assert reference, form
    data = {"csrf_token": _csrf(form), "reference": reference.group(1)}
    data |= {"payee": "Bob Martin", "amount": "10"}
    asked = client.post("/transfer", data=data)
    assert asked.status_code == 200 and "already completed" not in asked.text, asked.text
    challenge = re.search(r'name="otpgate_challenge" value="([^"]+)"', asked.text)
    assert challenge, asked.text
    code = {"otpgate_challenge": challenge.group(1), "otpgate_code": outbox.last_code_for(PHONE)}
    done = client.post("/transfer", data={**data, **code}, follow_redirects=True)
    return done.text


def test_the_same_transfer_twice_is_two_transfers_each_with_its_code(tmp_path):
    outbox = OutboxSender()
    app = load_example().create_app(sender=outbox, instance_path=str(tmp_path))
    client = app.test_client()
    login = client.get("/login").text
    client.post(
        "/login",
        data={"csrf_token": _csrf(login), "username": "alice", "password": "demo-password"},
    )
    step = client.get("/otp/verify").text
    client.post("/otp/verify/send", data={"csrf_token": _csrf(step)})
    client.post(
        "/otp/verify",
        data={"csrf_token": _csrf(step), "method": "sms", "code": outbox.last_code_for(PHONE)},
    )
    assert "Balance: 990.00 EUR" in _transfer(client, outbox)
    assert "Balance: 980.00 EUR" in _transfer(client, outbox)
