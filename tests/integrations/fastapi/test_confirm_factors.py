"""Confirming a transaction with any factor that may confirm one: the 401 opens on the
subject's preferred factor (an app sends nothing), ``OTP-Factor`` switches, the token in
``OTP-Challenge`` goes back with the code, and a subject with no suitable factor is told
where to add one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pyotp

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import FakeClock

from .conftest import SETTINGS, Harness, Transfer, assert_problem, bearer, make_app, token_subject
from .test_factor_api import enroll_app
from .test_transactions import TRANSFER, confirm_headers

ALICE = bearer("alice")
FLAKY = "POST /flaky-transfers"
DETAILS = Transfer(**TRANSFER).model_dump()


async def open_transfer(
    c: httpx.AsyncClient, factor: str | None = None, path: str = "/transfers", body: Any = None
) -> tuple[dict[str, Any], str]:
    """The 401 ``confirmation_required`` answer (and its ``OTP-Challenge`` header)."""
    headers = {**ALICE, "OTP-Factor": factor} if factor else ALICE
    response = await c.post(path, json=body or TRANSFER, headers=headers)
    problem = assert_problem(response, 401, "confirmation_required")
    token = response.headers["otp-challenge"]
    assert token == problem["challenge_id"] == problem["confirmation"]
    assert problem["expires_in"] == 300
    return problem, token


def app_code(harness: Harness, totp: pyotp.TOTP) -> str:
    harness.clock.advance(30)  # a new app code each time: a used one is a replay
    return totp.at(harness.clock.now)


async def test_an_app_user_confirms_with_the_app_and_no_sms_is_sent(harness: Harness):
    totp = await enroll_app(harness)
    problem, token = await open_transfer(harness.client)
    assert (problem["factor"], problem["challenge"]) == ("totp", None)
    assert [f["name"] for f in problem["factors"]] == ["totp"]
    assert not problem["factors"][0]["sends"] and problem["factors"][0]["preferred"]
    assert "Nothing was sent" in problem["detail"]
    assert problem["summary"] == "Pay 250.00"  # what the user approves, shown by the client
    assert harness.executed == []
    headers = confirm_headers(token, app_code(harness, totp))
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]
    replay = await harness.client.post(
        "/transfers", json=TRANSFER, headers=confirm_headers(token, app_code(harness, totp))
    )
    assert_problem(replay, 409, "transaction_executed")
    assert [t["id"] for t in harness.executed] == ["t-1"]
    assert harness.outbox.messages == []


async def test_an_app_code_confirms_only_the_details_and_route_it_was_opened_for(
    harness: Harness,
):
    totp = await enroll_app(harness)
    _, token = await open_transfer(harness.client)
    altered = {**TRANSFER, "amount": "2500.00"}
    headers = confirm_headers(token, app_code(harness, totp))
    refused = await harness.client.post("/transfers", json=altered, headers=headers)
    assert_problem(refused, 410, "expired")
    headers = confirm_headers(token, app_code(harness, totp))
    other = await harness.client.post("/standing-orders", json=TRANSFER, headers=headers)
    assert_problem(other, 410, "expired")
    assert harness.executed == []
    headers = confirm_headers(token, app_code(harness, totp))
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]


async def test_a_failed_handler_leaves_an_app_confirmation_retryable(harness: Harness):
    totp = await enroll_app(harness)
    harness.app.state.fail_next = 1
    _, token = await open_transfer(harness.client, path="/flaky-transfers")
    assert (await harness.gate.transaction_state("alice", FLAKY, DETAILS)).state == "pending"
    headers = confirm_headers(token, app_code(harness, totp))
    failed = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert failed.status_code == 502
    status = await harness.gate.transaction_state("alice", FLAKY, DETAILS)
    assert (status.state, status.retryable) == ("failed", True)
    headers = confirm_headers(token, app_code(harness, totp))  # a new app code retries it
    retried = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert retried.status_code == 200, retried.text
    status = await harness.gate.transaction_state("alice", FLAKY, DETAILS)
    assert (status.state, status.outcome) == ("executed", {"executed": "t-1"})
    headers = confirm_headers(token, app_code(harness, totp))
    replay = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert assert_problem(replay, 409, "transaction_executed")["outcome"] == {"executed": "t-1"}
    assert [t["id"] for t in harness.executed] == ["t-1"]
    assert harness.outbox.messages == []


async def test_a_user_with_app_and_phone_switches_to_sms_and_back(harness: Harness):
    totp = await enroll_app(harness)
    await harness.add_phone("alice")
    problem, _ = await open_transfer(harness.client)
    assert [f["name"] for f in problem["factors"]] == ["totp", "sms"]
    assert problem["factor"] == "totp" and harness.outbox.messages == []
    # switch to the SMS: it carries the details (PSD2 dynamic linking)
    problem, sms_token = await open_transfer(harness.client, factor="sms")
    assert problem["factor"] == "sms" and sms_token.startswith("sms~")
    assert problem["challenge"]["masked_phone"].endswith("78")
    assert problem["challenge"]["bound_to_context"] is True
    assert problem["detail"].startswith("We sent a code to ")
    assert "Pay 250.00" in harness.outbox.messages[-1].text
    # the SMS can be sent again (the same code, the same details) once its wait is over
    harness.clock.advance(problem["challenge"]["resend_in"])
    resent = await harness.client.post(
        f"/otpgate/challenges/{problem['challenge']['id']}/resend", headers=ALICE
    )
    assert resent.status_code == 200, resent.text
    assert len(harness.outbox.messages) == 2
    assert "Pay 250.00" in harness.outbox.messages[-1].text
    # and back to the app: nothing is sent, the SMS's code no longer confirms, the app's does
    problem, token = await open_transfer(harness.client, factor="totp")
    assert problem["factor"] == "totp" and len(harness.outbox.messages) == 2
    headers = confirm_headers(sms_token, harness.code())
    stale = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert_problem(stale, 410, "expired")  # the confirmation now waits on the app
    assert harness.executed == []
    headers = confirm_headers(token, app_code(harness, totp))
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]


async def test_an_sms_confirmation_works_with_the_bare_challenge_id(harness: Harness):
    """Clients written before the token named its factor send the SMS challenge's id."""
    await harness.add_phone("alice")
    problem, _ = await open_transfer(harness.client)
    headers = confirm_headers(problem["challenge"]["id"], harness.code())
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]


async def test_a_factor_that_cannot_be_chosen_is_refused(harness: Harness):
    await harness.add_phone("alice")
    for factor, status, code in [
        ("totp", 409, "factor_not_enrolled"),
        ("recovery", 403, "factor_not_allowed"),
        ("carrier-pigeon", 400, "unknown_factor"),
    ]:
        headers = {**ALICE, "OTP-Factor": factor}
        response = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
        assert_problem(response, status, code)
    assert harness.outbox.messages == [] and harness.executed == []


async def assert_told_where_to_add_a_factor(harness: Harness) -> None:
    response = await harness.client.post("/transfers", json=TRANSFER, headers=ALICE)
    problem = assert_problem(response, 409, "factor_setup_required")
    assert "challenge" not in problem and "otp-challenge" not in response.headers
    link = problem["links"]["factors"]
    assert link == "/otpgate/factors/offer?purpose=transaction"
    offer = await harness.client.get(link, headers=ALICE)
    assert offer.status_code == 200, offer.text
    assert offer.json()["factors"] == []
    assert {"sms", "totp"} <= set(offer.json()["can_add"])
    assert harness.outbox.messages == [] and harness.executed == []


async def test_a_user_with_no_factor_is_told_where_to_add_one(harness: Harness):
    await assert_told_where_to_add_a_factor(harness)


async def test_recovery_codes_alone_cannot_confirm_a_transaction(harness: Harness):
    await harness.gate.verifier.recovery.generate("alice")
    await assert_told_where_to_add_a_factor(harness)


async def test_the_transaction_policy_can_leave_the_app_out():
    clock, outbox = FakeClock(), OutboxSender()
    settings = replace(SETTINGS, transaction_factors=("sms",))
    gate = OtpGate(
        settings,
        store=MemoryStore(clock=clock),
        sender=outbox,
        clock=clock,
        database_url=None,
        current_subject=token_subject,
        single_process=True,
    )
    app = make_app(gate, [])
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    async with app.router.lifespan_context(app), client:
        harness = Harness(app, gate, outbox, clock, client, "memory")
        await enroll_app(harness)
        await harness.add_phone("alice")
        problem, _ = await open_transfer(client)
        assert problem["factor"] == "sms"
        assert [f["name"] for f in problem["factors"]] == ["sms"]
        refused = await client.post(
            "/transfers", json=TRANSFER, headers={**ALICE, "OTP-Factor": "totp"}
        )
        assert_problem(refused, 403, "factor_not_allowed")


async def test_transaction_challenged_still_takes_an_sms_challenge(harness: Harness):
    """``TransactionChallenged(challenge, now)``, as apps raised it before confirmations."""
    from otpgate.integrations.fastapi import TransactionChallenged, problem_response

    await harness.add_phone("alice")
    challenge = await harness.gate.verifier.start_sms("alice", purpose="transaction")
    response = problem_response(TransactionChallenged(challenge, harness.clock.now))
    assert response.status_code == 401 and response.headers["otp-challenge"] == challenge.id
    assert b'"masked_phone"' in response.body and b'"factors"' not in response.body


async def test_a_transaction_given_up_is_canceled_and_its_code_refused(harness: Harness):
    totp = await enroll_app(harness)
    _, token = await open_transfer(harness.client)
    action = "POST /transfers"
    assert await harness.gate.cancel_transaction("alice", action, DETAILS) is True
    assert (await harness.gate.transaction_state("alice", action, DETAILS)).state == "canceled"
    headers = confirm_headers(token, app_code(harness, totp))
    refused = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert_problem(refused, 410, "expired")
    assert harness.executed == []
    assert await harness.gate.cancel_transaction("alice", action, DETAILS) is False
    # the user may still start it again
    _, token = await open_transfer(harness.client)
    headers = confirm_headers(token, app_code(harness, totp))
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]
