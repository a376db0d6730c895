"""Confirming a transaction with any factor that may confirm one: a user with only an
authenticator app approves the details on the page with no SMS sent; the user switches
factor, cancels, or is told where to add a factor; the site's policy limits the factors."""

from __future__ import annotations

import pytest
from django.test import override_settings

from otpgate.core.factors import register_factor, registry
from tests.factors import PinFactor

from . import urls
from .conftest import PHONE, make_user, sign_in
from .helpers import totp_now

pytestmark = pytest.mark.django_db

DETAILS = {"amount": "250.00", "payee": "ACME"}


@pytest.fixture(autouse=True)
def flaky():
    urls.FLAKY.update(fail_next=0, executed=0)
    return urls.FLAKY


def with_app(gate, clock, user) -> str:
    setup = gate.totp.enroll(str(user.pk))
    gate.totp.confirm(str(user.pk), totp_now(setup.secret, clock()))
    clock.advance(30)  # the confirming code is spent
    return setup.secret


@pytest.fixture
def app_user(db, gate, clock):
    """A user whose only factor is an authenticator app; ``.secret`` is its key."""
    person = make_user("carol")
    person.secret = with_app(gate, clock, person)
    return person


def app_login(client, clock, person) -> None:
    """Password, then the app's code; the next code is a new one."""
    sign_in(client, person.username)
    code = totp_now(person.secret, clock())
    assert client.post("/2fa/verify/", {"action": "verify", "code": code}).status_code == 302
    clock.advance(30)


def app_code(person, clock) -> str:
    """The app's current code; the clock then moves on to the next one."""
    code = totp_now(person.secret, clock())
    clock.advance(30)
    return code


def state(client, action: str = "flaky_transfer") -> dict:
    return client.post(f"/transfer-state/?action={action}", DETAILS).json()


def test_a_user_with_only_an_app_confirms_with_an_app_code_and_no_sms_is_sent(
    client, app_user, clock, outbox, flaky
):
    app_login(client, clock, app_user)
    page = client.post("/flaky-transfer/", DETAILS)
    body = page.content.decode()
    assert page.status_code == 200
    assert "enter the code from your authenticator app" in body
    assert 'name="otp_code"' in body and 'name="amount" value="250.00"' in body
    assert 'value="resend"' not in body and 'value="sms"' not in body  # nothing to send
    assert 'value="cancel"' in body
    # No summary given: the page lists the details the code approves.
    assert "<dt>amount</dt><dd>250.00</dd><dt>payee</dt><dd>ACME</dd>" in body
    done = client.post("/flaky-transfer/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    again = client.post("/flaky-transfer/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    assert again.status_code == 409 and b"PROTECTED" not in again.content
    assert flaky["executed"] == 1
    assert outbox.messages == []


def test_an_app_code_confirms_neither_other_details_nor_another_action(
    client, app_user, clock, outbox
):
    app_login(client, clock, app_user)
    client.post("/transfer/", DETAILS)
    tampered = client.post(
        "/transfer/", {**DETAILS, "amount": "9999.00", "otp_code": app_code(app_user, clock)}
    )
    assert tampered.status_code in (409, 410) and b"PROTECTED" not in tampered.content
    other = client.post("/standing-order/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    assert other.status_code in (409, 410) and b"PROTECTED" not in other.content
    # The pending confirmation of these details for /transfer/ is still there.
    done = client.post("/transfer/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    assert done.content == b"PROTECTED transferred 250.00 to ACME"
    assert outbox.messages == []


def test_a_failed_view_is_retried_with_the_app_and_its_state_is_readable(
    client, app_user, clock, flaky
):
    app_login(client, clock, app_user)
    client.post("/flaky-transfer/", DETAILS)
    assert state(client)["state"] == "pending"
    code = app_code(app_user, clock)
    flaky["fail_next"] = 1
    with pytest.raises(RuntimeError):
        client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert state(client)["state"] == "failed"
    wrong = "000000" if code != "000000" else "111111"
    assert client.post("/flaky-transfer/", {**DETAILS, "otp_code": wrong}).status_code == 400
    done = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})  # the same code
    assert done.content == b"PROTECTED flaky transferred 250.00"
    assert state(client) == {"state": "executed", "outcome": {"payee": "ACME", "status": 200}}
    replay = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert replay.status_code == 409
    assert "This transaction was already completed." in replay.content.decode()
    assert flaky["executed"] == 1


def test_a_user_with_app_and_phone_switches_to_sms_and_back(client, sms_user, gate, clock, outbox):
    secret = with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "verify", "code": totp_now(secret, clock())})
    clock.advance(30)
    body = client.post("/transfer/", DETAILS).content.decode()
    assert "authenticator app" in body and 'name="otp_factor" value="sms"' in body
    assert outbox.messages == []
    body = client.post("/transfer/", {**DETAILS, "otp_factor": "sms"}).content.decode()
    message = outbox.messages_to(PHONE)[-1]
    assert "EUR 250.00" in message.text  # the SMS names what it confirms
    assert "We sent a code for exactly this action" in body and 'value="resend"' in body
    assert 'name="otp_factor" value="totp"' in body
    body = client.post("/transfer/", {**DETAILS, "otp_factor": "totp"}).content.decode()
    assert "authenticator app" in body and 'value="resend"' not in body
    # The SMS is no longer what confirms it; the app is.
    refused = client.post("/transfer/", {**DETAILS, "otp_code": message.code})
    assert b"PROTECTED" not in refused.content
    done = client.post("/transfer/", {**DETAILS, "otp_code": totp_now(secret, clock())})
    assert done.content == b"PROTECTED transferred 250.00 to ACME"
    assert len(outbox.messages) == 1


def test_a_user_with_no_factor_that_may_confirm_is_linked_to_adding_one(client, user, gate):
    client.force_login(user)
    for kind in ("none", "recovery codes only"):
        page = client.post("/transfer/", DETAILS)
        body = page.content.decode()
        assert page.status_code == 409, kind
        assert 'href="/2fa/app/"' in body and 'href="/2fa/phone/add/"' in body, kind
        assert "Send a new code" not in body and 'name="otp_code"' not in body, kind
        assert 'id="otpgate-cancel"' in body and b"PROTECTED" not in page.content
        codes = gate.recovery.generate(str(user.pk))
        client.logout()
        sign_in(client, user.username)
        data = {"action": "verify", "method": "recovery", "code": codes[0]}
        assert client.post("/2fa/verify/", data).status_code == 302
    for link in ("/2fa/app/", "/2fa/phone/add/"):
        assert client.get(link).status_code == 200


def test_the_policy_can_leave_the_app_out(client, sms_user, gate, clock, outbox):
    secret = with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "verify", "code": totp_now(secret, clock())})
    with override_settings(OTPGATE_TRANSACTION_FACTORS="sms"):
        body = client.post("/transfer/", DETAILS).content.decode()
        assert "We sent a code for exactly this action" in body
        assert 'value="totp"' not in body
        chosen = client.post("/transfer/", {**DETAILS, "otp_factor": "totp"})
        assert chosen.status_code >= 400 and b"PROTECTED" not in chosen.content
        done = client.post(
            "/transfer/", {**DETAILS, "otp_code": outbox.messages_to(PHONE)[-1].code}
        )
        assert done.content == b"PROTECTED transferred 250.00 to ACME"


def test_an_app_the_policy_leaves_out_is_not_offered_to_add_again(client, app_user, clock):
    app_login(client, clock, app_user)
    with override_settings(OTPGATE_TRANSACTION_FACTORS="sms"):
        page = client.post("/transfer/", DETAILS)
    body = page.content.decode()
    assert page.status_code == 409 and 'name="otp_code"' not in body
    assert 'href="/2fa/phone/add/"' in body and 'href="/2fa/app/"' not in body


def test_cancel_ends_the_pending_transaction_and_goes_back_safely(client, app_user, clock):
    app_login(client, clock, app_user)
    client.post("/flaky-transfer/", DETAILS)
    gone = client.post("/flaky-transfer/?next=//evil.example/", {**DETAILS, "otp_action": "cancel"})
    assert gone.status_code == 303 and gone["Location"] == "/"
    assert state(client)["state"] == "canceled"
    code = app_code(app_user, clock)
    refused = client.post("/flaky-transfer/", {**DETAILS, "otp_code": code})
    assert b"PROTECTED" not in refused.content
    client.post("/flaky-transfer/", DETAILS)
    back = client.post("/flaky-transfer/?next=/public/", {**DETAILS, "otp_action": "cancel"})
    assert back["Location"] == "/public/"


def test_an_expired_app_confirmation_offers_to_start_again(client, app_user, clock, flaky):
    app_login(client, clock, app_user)
    client.post("/flaky-transfer/", DETAILS)
    clock.advance(301)  # past the confirmation's lifetime
    late = client.post("/flaky-transfer/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    body = late.content.decode()
    assert late.status_code == 410 and 'name="otp_code"' not in body
    assert 'name="otp_factor" value="totp"' in body  # "Continue": no dead end
    again = client.post("/flaky-transfer/", {**DETAILS, "otp_factor": "totp"})
    assert 'name="otp_code"' in again.content.decode()
    done = client.post("/flaky-transfer/", {**DETAILS, "otp_code": app_code(app_user, clock)})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    assert flaky["executed"] == 1


@pytest.mark.django_db(transaction=True)
async def test_async_views_confirm_with_the_app(async_client, app_user, clock, outbox, flaky):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(app_user)
    code = totp_now(app_user.secret, clock())
    await async_client.post("/2fa/verify/", {"action": "verify", "code": code})
    clock.advance(30)
    page = await async_client.post("/flaky-transfer-async/", DETAILS)
    assert "authenticator app" in page.content.decode()
    code = app_code(app_user, clock)
    flaky["fail_next"] = 1
    with pytest.raises(RuntimeError):
        await async_client.post("/flaky-transfer-async/", {**DETAILS, "otp_code": code})
    done = await async_client.post("/flaky-transfer-async/", {**DETAILS, "otp_code": code})
    assert done.content == b"PROTECTED flaky transferred 250.00"
    other = await async_client.post("/transfer-async/", {**DETAILS, "otp_code": code})
    assert b"PROTECTED" not in other.content
    assert flaky["executed"] == 1
    assert outbox.messages == []


class TransactionPin(PinFactor):
    """The toy PIN factor, allowed to confirm transactions too."""

    purposes = frozenset({"login", "action", "transaction"})


@pytest.fixture
def pin():
    factor = register_factor(TransactionPin())
    yield factor
    registry.unregister("pin")


def test_a_factor_registered_at_test_time_confirms_a_transaction(
    client, app_user, clock, pin, outbox
):
    app_login(client, clock, app_user)
    with override_settings(OTPGATE_TRANSACTION_FACTORS="sms,totp,pin"):
        body = client.post("/transfer/", DETAILS).content.decode()
        assert 'name="otp_factor" value="pin"' in body
        body = client.post("/transfer/", {**DETAILS, "otp_factor": "pin"}).content.decode()
        assert 'maxlength="4"' in body
        wrong = client.post("/transfer/", {**DETAILS, "otp_code": "1111"})
        assert wrong.status_code == 400
        done = client.post("/transfer/", {**DETAILS, "otp_code": PinFactor.PIN})
        assert done.content == b"PROTECTED transferred 250.00 to ACME"
        assert outbox.messages == []


def test_the_confirmation_page_in_simplified_chinese(client, sms_user, gate, clock, outbox):
    secret = with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "verify", "code": totp_now(secret, clock())})
    body = client.post("/transfer/", DETAILS, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "请核对上面的详情" in body and "其他确认方式" in body and "取消" in body


def test_a_spent_sms_budget_leaves_the_app_offered_and_says_the_wait_in_minutes(
    client, sms_user, gate, clock, outbox
):
    """The Flask trial's dead end, checked here: once the number's SMS budget is spent
    (5 per 15 minutes), the page still offers the app, and says the wait in minutes."""
    secret = with_app(gate, clock, sms_user)
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "verify", "code": totp_now(secret, clock())})
    for _ in range(5):
        client.post("/transfer/", {**DETAILS, "otp_factor": "sms"})
        clock.advance(60)
    assert len(outbox.messages_to(PHONE)) == 5
    spent = client.post("/transfer/", {**DETAILS, "otp_factor": "sms"})
    body = spent.content.decode()
    assert spent.status_code == 429 and "Try again in 10 minutes." in body
    assert 'name="otp_factor" value="totp"' in body and "Use your authenticator app" in body
    clock.advance(30)
    page = client.post("/transfer/", {**DETAILS, "otp_factor": "totp"})
    assert 'name="otp_code"' in page.content.decode()
    done = client.post("/transfer/", {**DETAILS, "otp_code": totp_now(secret, clock())})
    assert done.content == b"PROTECTED transferred 250.00 to ACME"
