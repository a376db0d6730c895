"""Verified transactions: a code bound to the transaction's details, used once."""

from __future__ import annotations

from tests.conftest import OTHER_PHONE

from .conftest import Harness, assert_problem, bearer, wrong_code

ALICE = bearer("alice")

TRANSFER = {"id": "t-1", "amount": "250.00", "payee": "DE89370400440532013000"}


async def start_transfer(
    harness: Harness, body: dict = TRANSFER, headers: dict = ALICE, path: str = "/transfers"
) -> dict:
    response = await harness.client.post(path, json=body, headers=headers)
    problem = assert_problem(response, 401, "confirmation_required")
    assert response.headers["otp-challenge"] == problem["challenge_id"]
    assert response.headers["www-authenticate"].startswith(
        'Bearer error="insufficient_user_authentication", error_description="'
    )
    assert problem["challenge"]["purpose"] == "transaction"
    assert problem["challenge"]["expires_in"] == 300
    assert problem["challenge"]["bound_to_context"] is True
    assert problem["factor"] == "sms" and problem["confirmation"] == problem["challenge_id"]
    return problem


def executed(harness: Harness) -> list[tuple[str, str | None]]:
    """(id, action) of each transaction run; the action is recorded by /standing-orders."""
    return [(t["id"], t.get("action")) for t in harness.executed]


def confirm_headers(challenge_id: str, code: str, headers: dict = ALICE) -> dict:
    return {**headers, "OTP-Challenge": challenge_id, "OTP-Code": code}


async def test_a_transaction_runs_once_its_code_is_checked(harness: Harness):
    await harness.add_phone("alice")
    problem = await start_transfer(harness)
    assert "Pay 250.00" in harness.outbox.messages[-1].text
    assert harness.executed == []
    headers = confirm_headers(problem["challenge_id"], harness.code())
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert [t["id"] for t in harness.executed] == ["t-1"]
    # a replay answers "executed" (with the recorded outcome), not "expired"
    replay = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert_problem(replay, 409, "transaction_executed")
    assert replay.json()["transaction_state"] == "executed"
    # the same transaction cannot be confirmed again, not even with a new challenge
    again = await harness.client.post("/transfers", json=TRANSFER, headers=ALICE)
    assert_problem(again, 409, "transaction_executed")
    assert len(harness.outbox.messages) == 1
    assert [t["id"] for t in harness.executed] == ["t-1"]


async def test_an_altered_transaction_is_refused(harness: Harness):
    await harness.add_phone("alice")
    problem = await start_transfer(harness)
    headers = confirm_headers(problem["challenge_id"], harness.code())
    altered = {**TRANSFER, "amount": "2500.00"}
    refused = await harness.client.post("/transfers", json=altered, headers=headers)
    assert_problem(refused, 409, "context_mismatch")
    # numbers are compared as numbers: 250 is 250.00
    same = await harness.client.post(
        "/transfers", json={**TRANSFER, "amount": 250}, headers=headers
    )
    assert same.status_code == 200, same.text
    assert len(harness.executed) == 1


async def test_a_transaction_code_belongs_to_its_subject(harness: Harness):
    await harness.add_phone("alice")
    await harness.add_phone("bob", OTHER_PHONE)
    problem = await start_transfer(harness)
    stolen = confirm_headers(problem["challenge_id"], harness.code(), bearer("bob"))
    assert_problem(
        await harness.client.post("/transfers", json=TRANSFER, headers=stolen), 410, "expired"
    )


async def test_wrong_code_and_half_headers(harness: Harness):
    await harness.add_phone("alice")
    problem = await start_transfer(harness)
    wrong = wrong_code(harness)
    response = await harness.client.post(
        "/transfers", json=TRANSFER, headers=confirm_headers(problem["challenge_id"], wrong)
    )
    assert assert_problem(response, 400, "invalid_code")["attempts_left"] == 4
    half = await harness.client.post(
        "/transfers", json=TRANSFER, headers={**ALICE, "OTP-Code": wrong}
    )
    assert_problem(half, 400, "malformed_input")
    assert harness.executed == []


async def test_a_step_up_challenge_cannot_confirm_a_transaction(harness: Harness):
    await harness.add_phone("alice")
    started = (await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)).json()
    headers = confirm_headers(started["id"], harness.code())
    response = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    # the core refuses a challenge started for another purpose as it refuses an unknown one
    assert_problem(response, 410, "expired")
    assert harness.executed == []


async def test_a_code_confirms_only_the_route_it_was_sent_for(harness: Harness):
    await harness.add_phone("alice")
    problem = await start_transfer(harness)
    headers = confirm_headers(problem["challenge_id"], harness.code())
    other = await harness.client.post("/standing-orders", json=TRANSFER, headers=headers)
    assert_problem(other, 409, "context_mismatch")
    assert harness.executed == [] and len(harness.outbox.messages) == 1
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert executed(harness) == [("t-1", None)]
    # confirming the transfer did not use up the standing order of the same details
    problem = await start_transfer(harness, path="/standing-orders")
    headers = confirm_headers(problem["challenge_id"], harness.code())
    ordered = await harness.client.post("/standing-orders", json=TRANSFER, headers=headers)
    assert ordered.status_code == 200, ordered.text
    assert executed(harness) == [("t-1", None), ("t-1", "POST /standing-orders")]


async def test_an_explicit_action_names_what_the_code_confirms(harness: Harness):
    await harness.add_phone("alice")
    problem = await start_transfer(harness, path="/standing-orders")
    headers = confirm_headers(problem["challenge_id"], harness.code())
    refused = await harness.client.post("/transfers/v2", json=TRANSFER, headers=headers)
    assert_problem(refused, 409, "context_mismatch")
    # the alias route names the action of POST /transfers: that route's code confirms it
    problem = await start_transfer(harness)
    headers = confirm_headers(problem["challenge_id"], harness.code())
    done = await harness.client.post("/transfers/v2", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert executed(harness) == [("t-1", None)]
    # and it is the same transaction: confirmed once, on either route
    again = await harness.client.post("/transfers", json=TRANSFER, headers=ALICE)
    assert_problem(again, 409, "transaction_executed")


async def test_a_code_confirms_only_its_own_mounted_app(harness: Harness):
    # Two apps mounted in the same one, each with a route of the same template.
    from typing import Any

    import httpx
    from fastapi import Depends, FastAPI

    from otpgate.integrations.fastapi import VerifiedTransaction

    async def details() -> dict[str, Any]:
        return {"amount": "250.00"}

    confirm = harness.gate.require_transaction(details)
    paid: list[str] = []
    outer = FastAPI()
    for prefix in ("/accounts", "/savings"):
        sub = FastAPI(exception_handlers=harness.gate.exception_handlers)

        @sub.post("/pay")
        async def pay(tx: VerifiedTransaction = Depends(confirm)) -> dict:  # noqa: B008
            paid.append(tx.action)
            return {}

        outer.mount(prefix, sub)
    await harness.add_phone("alice")
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        asked = await client.post("/accounts/pay", headers=ALICE)
        assert asked.status_code == 401, asked.text
        headers = confirm_headers(asked.json()["challenge_id"], harness.code())
        other = await client.post("/savings/pay", headers=headers)
        assert_problem(other, 409, "context_mismatch")
        assert paid == []
        done = await client.post("/accounts/pay", headers=headers)
        assert done.status_code == 200, done.text
    assert paid == ["POST /accounts/pay"]


async def test_a_transaction_code_confirms_the_transaction_only_not_a_step_up(harness: Harness):
    # The code was sent "to confirm Pay 250.00": it must not also make the token fresh for
    # step-up routes (a relayed transaction code would otherwise open them).
    await harness.add_phone("alice")
    problem = await start_transfer(harness)
    headers = confirm_headers(problem["challenge_id"], harness.code())
    done = await harness.client.post("/transfers", json=TRANSFER, headers=headers)
    assert done.status_code == 200, done.text
    assert_problem(await harness.client.get("/secret", headers=ALICE), 401, "fresh_otp_required")
    # nor through the generic check route, which cannot approve a bound challenge anyway
    second = await start_transfer(harness, {**TRANSFER, "id": "t-2"})
    checked = await harness.client.post(
        f"/otpgate/challenges/{second['challenge']['id']}/check",
        json={"code": harness.code()},
        headers=ALICE,
    )
    assert_problem(checked, 409, "context_mismatch")
    assert_problem(await harness.client.get("/secret", headers=ALICE), 401, "fresh_otp_required")
