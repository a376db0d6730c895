"""confirm_transaction with any factor the policy allows: an app confirms with no SMS sent,
bound to the details and the view like an SMS code; the user switches factors, cancels, or
(with no factor that may confirm) is sent to add one; ``OTPGATE_TRANSACTION_FACTORS`` rules."""

from __future__ import annotations

import re

import pyotp
import pytest

from otpgate import register_factor
from otpgate.core.factors import registry
from otpgate.integrations.flask import transaction_state
from tests.conftest import PHONE
from tests.factors import PinFactor
from tests.integrations.flask.conftest import CSRF, make_app, password_login, sms_login
from tests.integrations.flask.test_login import enroll_totp
from tests.redis.fixtures import new_prefix

DETAILS = {"amount": "250.00", "payee": "Bob Martin"}
JSON = {"Accept": "application/json"}


def same_csrf(client) -> None:
    with client.session_transaction() as session:  # signing in replaced the CSRF token
        session["_otpgate_csrf"] = CSRF


def app_user(harness, subject="bob") -> pyotp.TOTP:
    """``subject`` with only an authenticator app, signed in with it."""
    totp = pyotp.TOTP(enroll_totp(harness, subject))
    return totp


def sign_in_with_app(harness, totp, subject="bob"):
    client = harness.client()
    password_login(client, subject)
    code = totp.at(harness.clock.now)
    done = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "totp", "code": code})
    assert done.status_code == 303, done.text
    same_csrf(client)
    harness.clock.advance(30)  # the sign-in spent this step's code
    return client


def api(client, body, token=None, code=None, path="/transfer", **headers):
    sent = dict(headers)
    if token:
        sent["X-Otpgate-Challenge"] = token
    if code:
        sent["X-Otpgate-Code"] = code
    return client.post(path, json=body, headers=sent)


def form(client, path="/transfer", **fields):
    return client.post(path, data={**DETAILS, "csrf_token": CSRF, **fields})


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def test_an_app_user_confirms_with_the_app_and_no_sms_is_sent(harness):
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)
    first = api(client, DETAILS)
    assert first.status_code == 401 and first.json["code"] == "confirmation_required"
    assert first.json["factor"] == "totp" and first.json["challenge"] is None
    assert [option["name"] for option in first.json["factors"]] == ["totp"]
    token = first.json["confirmation"]
    assert first.headers["OTP-Challenge"] == token and token.startswith("totp~")
    assert harness.executed == []
    done = api(client, DETAILS, token, totp.at(harness.clock.now))
    assert done.status_code == 200 and done.json["status"] == "executed"
    replay = api(client, DETAILS, token, totp.at(harness.clock.now))
    assert replay.status_code == 409 and replay.json["code"] == "transaction_executed"
    assert harness.executed == [DETAILS]
    assert harness.outbox.messages == []


def test_the_page_asks_for_the_app_code_and_offers_no_resend(harness):
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)
    page = form(client)
    assert page.status_code == 200
    assert "enter the code from your authenticator app" in page.text
    assert "<dt>amount</dt><dd>250.00</dd><dt>payee</dt><dd>Bob Martin</dd>" in page.text
    assert "Code from your authenticator app" in page.text
    assert "Send a new code" not in page.text and 'name="otpgate_factor"' not in page.text
    assert 'name="otpgate_action" value="cancel"' in page.text
    token = hidden(page.text, "otpgate_challenge")
    done = form(client, otpgate_challenge=token, otpgate_code=totp.at(harness.clock.now))
    assert done.status_code == 200 and harness.executed == [DETAILS]
    assert harness.outbox.messages == []


def test_an_app_code_confirms_only_the_details_and_view_shown(harness):
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)
    token = api(client, DETAILS).json["confirmation"]
    more = {**DETAILS, "amount": "9999.00"}
    refused = api(client, more, token, totp.at(harness.clock.now))
    assert refused.status_code == 410 and refused.json["code"] == "expired"
    harness.clock.advance(30)
    other_view = api(client, DETAILS, token, totp.at(harness.clock.now), path="/standing-order")
    assert other_view.status_code == 410
    harness.clock.advance(30)
    made_up = api(client, DETAILS, "totp~made-up", totp.at(harness.clock.now))
    assert made_up.status_code == 410
    assert harness.executed == []
    harness.clock.advance(30)
    assert api(client, DETAILS, token, totp.at(harness.clock.now)).status_code == 200
    assert harness.executed == [DETAILS]


def test_a_failed_view_is_retried_with_the_app_and_its_state_is_readable(harness):
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)

    def post(token=None, code=None, path="/flaky-transfer"):
        fields = {"otpgate_challenge": token, "otpgate_code": code} if token else {}
        return client.post(path, data={**DETAILS, "csrf_token": CSRF, **fields}, headers=JSON)

    token = post().json["confirmation"]
    assert post(path="/transfer-state").json["state"] == "pending"
    harness.fail_next = 1
    with pytest.raises(RuntimeError):
        post(token, totp.at(harness.clock.now))
    assert post(path="/transfer-state").json["state"] == "failed"
    harness.clock.advance(30)  # a new app code retries it
    done = post(token, totp.at(harness.clock.now))
    assert done.status_code == 200 and harness.executed == [DETAILS]
    executed = {"payee": "Bob Martin", "status": 200}
    assert post(path="/transfer-state").json == {"state": "executed", "outcome": executed}
    harness.clock.advance(30)
    replay = post(token, totp.at(harness.clock.now))
    assert replay.status_code == 409 and replay.json["outcome"] == executed
    assert harness.executed == [DETAILS] and harness.outbox.messages == []


def test_a_user_with_app_and_phone_switches_to_sms_and_back(harness):
    totp = app_user(harness, "carol")  # carol has a phone too; the app is preferred
    client = sign_in_with_app(harness, totp, "carol")
    page = form(client)
    assert "Code from your authenticator app" in page.text
    assert "Get a code by text message" in page.text and "Send a new code" not in page.text
    assert harness.outbox.messages == []
    app_token = hidden(page.text, "otpgate_challenge")
    sms_page = form(client, otpgate_factor="sms", otpgate_challenge=app_token)
    assert sms_page.status_code == 200
    assert "We sent a code for exactly this transaction to" in sms_page.text
    assert "Send a new code" in sms_page.text and "Use your authenticator app" in sms_page.text
    sms = harness.outbox.messages[-1]
    assert "Pay 250.00 EUR to Bob Martin" in sms.text
    sms_token = hidden(sms_page.text, "otpgate_challenge")
    assert sms_token.startswith("sms~")
    # the app's token was replaced: its code no longer confirms
    stale = form(client, otpgate_challenge=app_token, otpgate_code=totp.at(harness.clock.now))
    assert stale.status_code == 410 and harness.executed == []
    back = form(client, otpgate_factor="totp", otpgate_challenge=sms_token)
    assert "Code from your authenticator app" in back.text
    sent = len(harness.outbox.messages)
    late_sms = form(client, otpgate_challenge=sms_token, otpgate_code=sms.code)
    assert late_sms.status_code == 410 and harness.executed == []
    harness.clock.advance(30)
    token = hidden(back.text, "otpgate_challenge")
    done = form(client, otpgate_challenge=token, otpgate_code=totp.at(harness.clock.now))
    assert done.status_code == 200 and harness.executed == [DETAILS]
    assert len(harness.outbox.messages) == sent


def test_an_api_client_picks_its_factor(harness):
    totp = app_user(harness, "carol")
    client = sign_in_with_app(harness, totp, "carol")
    first = api(client, DETAILS, **{"X-Otpgate-Factor": "sms"})
    assert first.status_code == 401 and first.json["factor"] == "sms"
    assert [o["name"] for o in first.json["factors"]] == ["totp", "sms"]
    code = harness.outbox.messages[-1].code
    refused = api(client, DETAILS, **{"X-Otpgate-Factor": "recovery"})
    assert refused.status_code == 403 and refused.json["code"] == "factor_not_allowed"
    done = api(client, DETAILS, first.json["confirmation"], code)
    assert done.status_code == 200 and harness.executed == [DETAILS]


@pytest.mark.parametrize("recovery_only", [False, True])
def test_with_no_factor_that_may_confirm_the_page_links_to_adding_one(harness, recovery_only):
    client = harness.client()
    if recovery_only:
        with harness.app.app_context():
            codes = harness.gate.verifier.recovery.generate("bob")
        password_login(client, "bob")
        client.post(
            "/otp/verify", data={"csrf_token": CSRF, "method": "recovery", "code": codes[0]}
        )
        same_csrf(client)
    else:
        password_login(client, "bob")  # no factor at all: signed in by password
    page = form(client)
    assert page.status_code == 409
    assert "first add an authenticator app or a phone number" in page.text
    assert "Send a new code" not in page.text and "otpgate_code" not in page.text
    assert 'name="otpgate_action" value="cancel"' in page.text
    link = re.search(r'<a href="([^"]+)">Add a second factor</a>', page.text).group(1)
    assert link == "/otp/"
    enroll = client.get(link)
    assert enroll.status_code == 200 and "Set up an authenticator app" in enroll.text
    problem = api(client, DETAILS)
    assert problem.status_code == 409 and problem.json["code"] == "factor_setup_required"
    assert problem.json["enroll_url"] == "/otp/"
    assert harness.executed == [] and harness.outbox.messages == []


def test_cancel_ends_the_confirmation_and_goes_home(harness):
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)
    token = hidden(form(client).text, "otpgate_challenge")
    canceled = form(client, otpgate_action="cancel", otpgate_challenge=token)
    assert canceled.status_code == 303 and canceled.headers["Location"] == "/"
    state = client.post("/transfer-state", data=DETAILS, headers=JSON).json
    assert state["state"] == "unknown"  # /transfer-state reads the flaky view's action
    late = form(client, otpgate_challenge=token, otpgate_code=totp.at(harness.clock.now))
    assert late.status_code == 410 and harness.executed == []
    # the API's cancel answers the transaction's state
    token = api(client, DETAILS).json["confirmation"]
    answer = api(client, DETAILS, token, **{"X-Otpgate-Action": "cancel"})
    assert answer.json == {"status": "canceled", "transaction_state": "canceled"}


def test_the_policy_setting_hides_the_app(clock, outbox):
    harness = make_app(clock, outbox, OTPGATE_TRANSACTION_FACTORS="sms")
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("carol", PHONE)
    totp = app_user(harness, "carol")
    client = sign_in_with_app(harness, totp, "carol")
    first = api(client, DETAILS)
    assert first.json["factor"] == "sms"
    assert [option["name"] for option in first.json["factors"]] == ["sms"]
    assert "Pay 250.00 EUR to Bob Martin" in outbox.messages[-1].text
    page = form(client)
    assert "Use your authenticator app" not in page.text
    chosen = api(client, DETAILS, **{"X-Otpgate-Factor": "totp"})
    assert chosen.status_code == 403 and chosen.json["code"] == "factor_not_allowed"


class TransactionPin(PinFactor):
    """The toy PIN, allowed to confirm transactions too."""

    purposes = frozenset({"login", "action", "transaction"})


def test_a_factor_registered_in_the_core_confirms_with_no_flask_change(clock, outbox):
    register_factor(TransactionPin())
    try:
        harness = make_app(clock, outbox, OTPGATE_TRANSACTION_FACTORS="sms totp pin")
        with harness.app.app_context():
            harness.gate.verifier.credentials.add_phone("alice", PHONE)
        client = harness.client()
        sms_login(harness, client)
        page = form(client)  # alice prefers her phone: an SMS, and the PIN offered
        assert "Use pin" in page.text
        pin_page = form(client, otpgate_factor="pin")
        assert 'maxlength="4"' in pin_page.text and "Send a new code" not in pin_page.text
        token = hidden(pin_page.text, "otpgate_challenge")
        assert token.startswith("pin~")
        wrong = form(client, otpgate_challenge=token, otpgate_code="1111")
        assert wrong.status_code == 400 and harness.executed == []
        done = form(client, otpgate_challenge=token, otpgate_code=TransactionPin.PIN)
        assert done.status_code == 200 and harness.executed == [DETAILS]
        replay = form(client, otpgate_challenge=token, otpgate_code=TransactionPin.PIN)
        assert replay.status_code == 409 and harness.executed == [DETAILS]
    finally:
        registry.unregister("pin")


def test_transaction_state_reads_the_action_confirm_transaction_binds(harness):
    """By default both name the action as the view's method and endpoint: a DELETE view
    reads its own transaction, not the POST one's."""
    totp = app_user(harness)
    client = sign_in_with_app(harness, totp)
    client.delete("/payment", json=DETAILS)  # opens the confirmation of the cancel
    with harness.app.test_request_context("/payment", method="DELETE"):
        assert transaction_state(DETAILS, subject="bob").state == "pending"
    with harness.app.test_request_context("/payment", method="POST"):
        assert transaction_state(DETAILS, subject="bob").state == "unknown"


@pytest.mark.redis
def test_on_redis_an_app_confirmation_fails_retries_and_replays_its_outcome(
    clock, outbox, redis_server
):
    from otpgate.redis import RedisStore

    store = RedisStore.from_url(redis_server.url, prefix=new_prefix())
    try:
        harness = make_app(clock, outbox, store=store)
        totp = app_user(harness)
        client = sign_in_with_app(harness, totp)

        def post(token=None, code=None):
            fields = {"otpgate_challenge": token, "otpgate_code": code} if token else {}
            data = {**DETAILS, "csrf_token": CSRF, **fields}
            return client.post("/flaky-transfer", data=data, headers=JSON)

        token = post().json["confirmation"]
        harness.fail_next = 1
        with pytest.raises(RuntimeError):
            post(token, totp.at(harness.clock.now))
        harness.clock.advance(30)
        assert post(token, totp.at(harness.clock.now)).status_code == 200
        harness.clock.advance(30)
        replay = post(token, totp.at(harness.clock.now))
        assert replay.status_code == 409
        assert replay.json["outcome"] == {"payee": "Bob Martin", "status": 200}
        assert harness.executed == [DETAILS] and outbox.messages == []
    finally:
        store.close()


def test_a_spent_sms_budget_offers_the_app_and_says_the_wait_in_minutes(harness):
    """The new-user trial's dead end: "Get a code by text message" once the number's SMS
    budget is spent (5 per 15 min) left only "Start again" and "Cancel", and said "539 s"."""
    totp = app_user(harness, "carol")
    client = sign_in_with_app(harness, totp, "carol")
    for _ in range(5):
        assert form(client, otpgate_factor="sms").status_code == 200
        harness.clock.advance(60)
    spent = form(client, otpgate_factor="sms")
    assert spent.status_code == 429 and len(harness.outbox.messages) == 5
    assert "Try again in 10 minutes." in spent.text and " s." not in spent.text
    assert 'name="otpgate_factor" value="totp"' in spent.text
    assert "Use your authenticator app" in spent.text
    assert 'name="otpgate_factor" value="sms"' not in spent.text  # not the one just refused
    back = client.post("/transfer", data={**DETAILS, "csrf_token": CSRF, "otpgate_factor": "totp"})
    assert "Code from your authenticator app" in back.text
    token = hidden(back.text, "otpgate_challenge")
    harness.clock.advance(30)
    done = form(client, otpgate_challenge=token, otpgate_code=totp.at(harness.clock.now))
    assert done.status_code == 200 and harness.executed == [DETAILS]
