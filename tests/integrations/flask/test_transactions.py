"""confirm_transaction: the code confirms exactly the amount and payee it was sent for."""

from __future__ import annotations

import re

from tests.integrations.flask.conftest import CSRF, sms_login

TRANSFER = {"amount": "250.00", "payee": "Bob Martin"}


def signed_in(harness):
    client = harness.client()
    sms_login(harness, client)
    return client


def api(client, body, challenge=None, code=None, action=None, path="/transfer"):
    headers = {}
    if challenge:
        headers["X-Otpgate-Challenge"] = challenge
    if code:
        headers["X-Otpgate-Code"] = code
    if action:
        headers["X-Otpgate-Action"] = action
    return client.post(path, json=body, headers=headers)


def test_json_transfer_with_a_bound_code(harness):
    client = signed_in(harness)
    first = api(client, TRANSFER)
    assert first.status_code == 401 and first.json["code"] == "confirmation_required"
    challenge = first.json["challenge"]
    assert challenge["bound_to_context"] and challenge["masked_phone"] == "+33 ••• ••• 5678"
    # the token names its factor; a client that sends the bare challenge id still works
    token = first.json["confirmation"]
    assert first.json["challenge_id"] == first.headers["OTP-Challenge"] == token
    assert token == "sms~" + challenge["id"] and first.json["factor"] == "sms"
    assert [option["name"] for option in first.json["factors"]] == ["sms"]
    assert first.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "Pay 250.00 EUR to Bob Martin" in harness.outbox.messages[-1].text
    assert harness.executed == []
    done = api(client, TRANSFER, challenge["id"], harness.last_code())
    assert done.status_code == 200 and done.json["status"] == "executed"
    assert harness.executed == [TRANSFER]
    # replayed: the recorded outcome, not "expired", and not executed twice
    replay = api(client, TRANSFER, challenge["id"], harness.last_code())
    assert replay.status_code == 409 and harness.executed == [TRANSFER]
    assert replay.json["code"] == "transaction_executed"
    assert replay.json["outcome"] == {"status": 200}


def test_a_code_for_another_amount_or_payee_executes_nothing(harness):
    client = signed_in(harness)
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    code = harness.last_code()
    for tampered in (
        {"amount": "2500.00", "payee": "Bob Martin"},
        {"amount": "250.00", "payee": "Mallory"},
    ):
        response = api(client, tampered, challenge, code)
        assert response.status_code == 409 and response.json["code"] == "context_mismatch"
    assert harness.executed == []
    assert api(client, TRANSFER, challenge, code).status_code == 200
    assert harness.executed == [TRANSFER]


def test_a_code_from_another_user_or_the_login_is_refused(harness):
    client = signed_in(harness)
    login_code = harness.last_code()
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    assert api(client, TRANSFER, challenge, login_code).status_code in {400, 410}
    assert harness.executed == []


def test_html_transfer_replays_the_form_with_the_code(harness):
    client = signed_in(harness)
    page = client.post("/transfer", data={**TRANSFER, "csrf_token": CSRF})
    assert page.status_code == 200
    assert '<p class="summary">Pay 250.00 EUR to Bob Martin</p>' in page.text
    assert 'name="amount" value="250.00"' in page.text
    assert 'autocomplete="one-time-code" inputmode="numeric" pattern="\\p{Nd}*"' in page.text
    challenge = re.search(r'name="otpgate_challenge" value="([^"]+)"', page.text).group(1)
    tampered = client.post(
        "/transfer",
        data={
            "amount": "9999.00",
            "payee": "Bob Martin",
            "otpgate_challenge": challenge,
            "otpgate_code": harness.last_code(),
        },
    )
    assert tampered.status_code == 409
    assert "issued for a different transaction" in tampered.text
    assert harness.executed == []
    done = client.post(
        "/transfer",
        data={**TRANSFER, "otpgate_challenge": challenge, "otpgate_code": harness.last_code()},
    )
    assert done.status_code == 200 and harness.executed == [TRANSFER]


def test_transaction_resend_honours_the_cooldown(harness):
    client = signed_in(harness)
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    early = api(client, TRANSFER, challenge, action="resend")
    assert early.status_code == 429 and early.json["code"] == "resend_cooldown"
    harness.clock.advance(30)
    sent = len(harness.outbox.messages)
    again = api(client, TRANSFER, challenge, action="resend")
    assert again.status_code == 401 and len(harness.outbox.messages) == sent + 1


def test_transaction_code_expires(harness):
    client = signed_in(harness)
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    code = harness.last_code()
    harness.clock.advance(301)
    response = api(client, TRANSFER, challenge, code)
    assert response.status_code == 410 and response.json["challenge"] is None
    assert harness.executed == []


def test_a_code_confirms_only_the_endpoint_it_was_sent_for(harness):
    client = signed_in(harness)
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    code = harness.last_code()
    sent = len(harness.outbox.messages)
    other = api(client, TRANSFER, challenge, code, path="/standing-order")
    assert other.status_code == 409 and other.json["code"] == "context_mismatch"
    assert harness.executed == [] and len(harness.outbox.messages) == sent
    # the HTML form posted to the other endpoint is refused alike
    page = client.post(
        "/standing-order",
        data={**TRANSFER, "otpgate_challenge": challenge, "otpgate_code": code, "csrf_token": CSRF},
    )
    assert page.status_code == 409 and "issued for a different transaction" in page.text
    assert harness.executed == []
    # the code still confirms what it was sent for
    assert api(client, TRANSFER, challenge, code).status_code == 200
    assert harness.executed == [TRANSFER]


def test_an_explicit_action_names_what_the_code_confirms(harness):
    client = signed_in(harness)
    # /standing-order's code (action: its endpoint) does not confirm action="transfer"...
    challenge = api(client, TRANSFER, path="/standing-order").json["challenge"]["id"]
    refused = api(client, TRANSFER, challenge, harness.last_code(), path="/transfer-alias")
    assert refused.status_code == 409 and refused.json["code"] == "context_mismatch"
    # ...the code of /transfer (endpoint "transfer") does
    challenge = api(client, TRANSFER).json["challenge"]["id"]
    done = api(client, TRANSFER, challenge, harness.last_code(), path="/transfer-alias")
    assert done.status_code == 200 and harness.executed == [TRANSFER]


def test_a_code_for_one_method_of_a_view_does_not_confirm_another(harness):
    # POST /payment pays, DELETE /payment cancels: one endpoint, the same details.
    client = signed_in(harness)
    pay = api(client, TRANSFER, path="/payment").json["challenge"]["id"]
    code = harness.last_code()
    cancel = client.delete(
        "/payment", json=TRANSFER, headers={"X-Otpgate-Challenge": pay, "X-Otpgate-Code": code}
    )
    assert cancel.status_code == 409 and cancel.json["code"] == "context_mismatch"
    assert harness.executed == []
    # ...and a code sent for the cancel does not pay.
    stop = client.delete("/payment", json=TRANSFER).json["challenge"]["id"]
    refused = api(client, TRANSFER, stop, harness.last_code(), path="/payment")
    assert refused.status_code == 409 and harness.executed == []
    assert api(client, TRANSFER, pay, code, path="/payment").status_code == 200
    assert harness.executed == [TRANSFER]
