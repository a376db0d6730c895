"""A failing handler does not burn the confirmation; a transaction's state is readable."""

from __future__ import annotations

from .conftest import Harness, Transfer, assert_problem, bearer, wrong_code
from .test_transactions import TRANSFER, confirm_headers, start_transfer

ALICE = bearer("alice")
ACTION = "POST /flaky-transfers"
DETAILS = Transfer(**TRANSFER).model_dump()  # what the route's details dependency returns


async def state(harness: Harness) -> str:
    return (await harness.gate.transaction_state("alice", ACTION, DETAILS)).state


async def test_a_failed_handler_leaves_the_transaction_retryable_with_the_same_code(
    harness: Harness,
):
    await harness.add_phone("alice")
    harness.app.state.fail_next = 1
    problem = await start_transfer(harness, path="/flaky-transfers")
    assert await state(harness) == "pending"
    headers = confirm_headers(problem["challenge_id"], harness.code())
    failed = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert failed.status_code == 502
    status = await harness.gate.transaction_state("alice", ACTION, DETAILS)
    assert (status.state, status.retryable) == ("failed", True)
    retried = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert retried.status_code == 200, retried.text
    assert [t["id"] for t in harness.executed] == ["t-1"]
    status = await harness.gate.transaction_state("alice", ACTION, DETAILS)
    assert (status.state, status.outcome) == ("executed", {"executed": "t-1"})
    # an idempotent replay answers the recorded outcome, not "expired"
    replay = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    body = assert_problem(replay, 409, "transaction_executed")
    assert body["outcome"] == {"executed": "t-1"}
    assert [t["id"] for t in harness.executed] == ["t-1"]
    assert len(harness.outbox.messages) == 1


async def test_a_retry_needs_the_right_code_and_the_codes_lifetime(harness: Harness):
    await harness.add_phone("alice")
    harness.app.state.fail_next = 1
    problem = await start_transfer(harness, path="/flaky-transfers")
    code = harness.code()
    headers = confirm_headers(problem["challenge_id"], code)
    await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    wrong = confirm_headers(problem["challenge_id"], wrong_code(harness))
    refused = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=wrong)
    assert_problem(refused, 400, "invalid_code")
    assert await state(harness) == "failed"
    harness.clock.advance(301)  # the code's lifetime (300 s) is over
    late = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert_problem(late, 410, "expired")
    assert await state(harness) == "expired"
    assert harness.executed == []
    # an expired transaction can be confirmed anew
    await start_transfer(harness, path="/flaky-transfers")
    assert await state(harness) == "pending"


async def test_unknown_transactions_read_as_unknown(harness: Harness):
    assert await state(harness) == "unknown"


async def test_a_handler_that_answers_a_4xx_by_raising_executed(harness: Harness):
    """``HTTPException(4xx)`` is the handler's answer (as a 4xx response is in Django and
    Flask): recorded as executed, with its status; a 5xx is a failure (the test above)."""
    await harness.add_phone("alice")
    harness.app.state.refuse_next = 1
    problem = await start_transfer(harness, path="/flaky-transfers")
    headers = confirm_headers(problem["challenge_id"], harness.code())
    refused = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert refused.status_code == 422
    status = await harness.gate.transaction_state("alice", ACTION, DETAILS)
    assert (status.state, status.outcome) == ("executed", {"status": 422})
    replay = await harness.client.post("/flaky-transfers", json=TRANSFER, headers=headers)
    assert assert_problem(replay, 409, "transaction_executed")["outcome"] == {"status": 422}
