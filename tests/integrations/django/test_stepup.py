"""Step-up (decorator, mixin, sync and async views) and transaction confirmation."""

from __future__ import annotations

import pytest

from .conftest import PHONE, full_login, last_code

pytestmark = pytest.mark.django_db


def test_step_up_expires_and_can_be_renewed(client, sms_user, outbox, clock):
    full_login(client, outbox)
    assert client.get("/secret/").content == b"PROTECTED step-up"
    clock.advance(299)
    assert client.get("/secret/").status_code == 200
    clock.advance(2)  # OTPGATE_STEP_UP_MAX_AGE = 300 s
    response = client.get("/secret/")
    assert response["Location"] == "/2fa/verify/?next=%2Fsecret%2F"
    # The plain login still holds for views without step-up.
    assert client.get("/").content == b"PROTECTED home"
    page = client.get(response["Location"]).content.decode()
    assert "Confirm it’s you" in page
    client.post("/2fa/verify/", {"action": "send"})
    response = client.post(
        "/2fa/verify/?next=/secret/", {"action": "verify", "code": last_code(outbox)}
    )
    assert response["Location"] == "/secret/"
    assert client.get("/secret/").status_code == 200


def test_shorter_max_age_and_class_based_views(client, sms_user, outbox, clock):
    full_login(client, outbox)
    clock.advance(61)
    assert client.get("/short/").status_code == 302
    assert client.get("/cbv/").status_code == 200  # otp_max_age = 120
    assert client.post("/cbv/").status_code == 200
    clock.advance(60)
    assert client.get("/cbv/").status_code == 302


def test_step_up_json_answers(client, sms_user, outbox, clock):
    full_login(client, outbox)
    clock.advance(400)
    response = client.get("/secret/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "fresh_otp_required"
    assert response.json()["max_age"] == 300  # RFC 9470, as every integration answers
    assert 'max_age="300"' in response["WWW-Authenticate"]


def test_anonymous_goes_to_login_and_no_factor_user_to_enrollment(client, user):
    assert client.get("/secret/")["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.get("/secret/")["Location"].startswith("/2fa/?next=")


@pytest.mark.django_db(transaction=True)
async def test_async_views_and_asgi_middleware(async_client, sms_user, outbox, clock):
    from asgiref.sync import sync_to_async

    response = await async_client.get("/async/")
    assert response["Location"].startswith("/accounts/login/")
    await sync_to_async(async_client.force_login)(sms_user)
    # Password-only session: stopped by the middleware under ASGI too.
    for path in ("/async/", "/secret-async/", "/cbv-async/", "/"):
        response = await async_client.get(path)
        assert response["Location"].startswith("/2fa/verify/"), path
    await async_client.post("/2fa/verify/", {"action": "send"})
    response = await async_client.post(
        "/2fa/verify/", {"action": "verify", "code": last_code(outbox)}
    )
    assert response.status_code == 302
    assert (await async_client.get("/async/")).content == b"PROTECTED async home"
    assert (await async_client.get("/secret-async/")).content == b"PROTECTED async step-up"
    assert (await async_client.get("/cbv-async/")).status_code == 200
    clock.advance(301)
    assert (await async_client.get("/secret-async/"))["Location"].startswith("/2fa/verify/")


def test_transaction_confirmation_binds_the_details(client, sms_user, outbox):
    full_login(client, outbox)
    outbox.clear()
    details = {"amount": "250.00", "payee": "ACME"}
    page = client.post("/transfer/", details)
    assert page.status_code == 200
    text = page.content.decode()
    assert "EUR 250.00" in text
    assert 'name="amount" value="250.00"' in text
    message = outbox.messages_to(PHONE)[-1]
    assert "EUR 250.00" in message.text
    code = message.code
    # Changed details: the code does not confirm them.
    tampered = client.post("/transfer/", {"amount": "9999.00", "payee": "ACME", "otp_code": code})
    assert tampered.status_code == 409
    assert b"transferred" not in tampered.content
    done = client.post("/transfer/", {**details, "otp_code": code})
    assert done.content == b"PROTECTED transferred 250.00 to ACME"
    # Used once: the same code cannot confirm it again (a new code is sent instead).
    again = client.post("/transfer/", {**details, "otp_code": code})
    assert b"transferred" not in again.content


def test_transaction_wrong_code_then_right(client, sms_user, outbox):
    full_login(client, outbox)
    details = {"amount": "10.00", "payee": "Bob"}
    client.post("/transfer/", details)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/transfer/", {**details, "otp_code": wrong})
    assert response.status_code == 400
    assert "That code is not correct." in response.content.decode()
    response = client.post("/transfer/", {**details, "otp_code": code})
    assert response.content.startswith(b"PROTECTED transferred")


@pytest.mark.django_db(transaction=True)
async def test_async_transaction_confirmation(async_client, sms_user, outbox):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    await async_client.post("/2fa/verify/", {"action": "send"})
    await async_client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    details = {"amount": "42.00", "payee": "Carol"}
    page = await async_client.post("/transfer-async/", details)
    assert page.status_code == 200
    code = last_code(outbox)
    bad = await async_client.post(
        "/transfer-async/", {**details, "amount": "43.00", "otp_code": code}
    )
    assert bad.status_code == 409
    done = await async_client.post("/transfer-async/", {**details, "otp_code": code})
    assert done.content == b"PROTECTED async transferred 42.00"


def test_a_transaction_code_confirms_only_the_view_it_was_sent_for(client, sms_user, outbox):
    full_login(client, outbox)
    details = {"amount": "10.00", "payee": "Bob"}
    client.post("/transfer/", details)
    code = last_code(outbox)
    sent = len(outbox.messages)
    # The same details posted to another action: refused, nothing executed, nothing sent.
    other = client.post("/standing-order/", {**details, "otp_code": code})
    assert other.status_code == 409
    assert "This code was issued for a different transaction." in other.content.decode()
    assert b"PROTECTED" not in other.content
    assert len(outbox.messages) == sent
    # The code still confirms its own action (the mismatch cost one attempt).
    done = client.post("/transfer/", {**details, "otp_code": code})
    assert done.content == b"PROTECTED transferred 10.00 to Bob"


def test_a_code_sent_by_another_method_of_the_view_does_not_confirm_a_post(
    client, sms_user, outbox
):
    full_login(client, outbox)
    # A PUT to /standing-order/ (its details: none, read from the POST data) sends a code...
    client.put("/standing-order/")
    code = last_code(outbox)
    # ...which does not confirm a POST of the same details to the same view.
    refused = client.post("/standing-order/", {"amount": "", "payee": "", "otp_code": code})
    assert refused.status_code == 409
    assert b"PROTECTED" not in refused.content


def test_an_explicit_action_names_what_the_code_confirms(client, sms_user, outbox):
    full_login(client, outbox)
    details = {"amount": "10.00", "payee": "Bob"}
    # A code sent by /standing-order/ (action: its view name) is not one for "transfer"...
    client.post("/standing-order/", details)
    refused = client.post("/transfer-alias/", {**details, "otp_code": last_code(outbox)})
    assert refused.status_code == 409
    # with no summary the page lists the details, named by the view's labels (else the key)
    listed = refused.content.decode()
    assert "<dt>Amount</dt><dd>10.00</dd>" in listed and "<dt>payee</dt><dd>Bob</dd>" in listed
    # ...while /transfer/ (action: its view name "transfer") and /transfer-alias/
    # (action="transfer") confirm the same action.
    client.post("/transfer/", details)
    done = client.post("/transfer-alias/", {**details, "otp_code": last_code(outbox)})
    assert done.content == b"PROTECTED alias transferred 10.00"


@pytest.mark.django_db(transaction=True)
async def test_async_transaction_code_confirms_only_its_own_view(async_client, sms_user, outbox):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    await async_client.post("/2fa/verify/", {"action": "send"})
    await async_client.post("/2fa/verify/", {"action": "verify", "code": last_code(outbox)})
    details = {"amount": "42.00", "payee": "Carol"}
    await async_client.post("/transfer-async/", details)
    code = last_code(outbox)
    for other in ("/standing-order-async/", "/transfer/"):
        refused = await async_client.post(other, {**details, "otp_code": code})
        assert refused.status_code == 409, other
        assert b"PROTECTED" not in refused.content
    done = await async_client.post("/transfer-async-alias/", {**details, "otp_code": code})
    assert done.content == b"PROTECTED async alias transferred 42.00"
