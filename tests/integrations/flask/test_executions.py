"""A failing view does not burn its transaction's confirmation; its state is readable."""

from __future__ import annotations

import pytest

from tests.integrations.flask.conftest import CSRF, sms_login

DETAILS = {"amount": "250.00", "payee": "Bob Martin"}


def signed_in(harness):
    client = harness.client()
    sms_login(harness, client)
    return client


def post(client, challenge=None, code=None, path="/flaky-transfer"):
    form = {**DETAILS, "csrf_token": CSRF}
    if challenge:
        form.update(otpgate_challenge=challenge, otpgate_code=code)
    return client.post(path, data=form, headers={"Accept": "application/json"})


def state(client) -> dict:
    return post(client, path="/transfer-state").json


def test_a_failed_view_is_retried_with_the_same_code_then_replays_answer_executed(harness):
    client = signed_in(harness)
    assert state(client)["state"] == "unknown"
    challenge = post(client).json["challenge_id"]
    assert state(client)["state"] == "pending"
    code = harness.last_code()
    harness.fail_next = 1
    with pytest.raises(RuntimeError):
        post(client, challenge, code)
    assert state(client)["state"] == "failed"
    sent = len(harness.outbox.messages)
    done = post(client, challenge, code)
    assert done.status_code == 200 and done.json["status"] == "executed"
    assert state(client) == {"state": "executed", "outcome": {"payee": "Bob Martin", "status": 200}}
    replay = post(client, challenge, code)
    assert replay.status_code == 409 and replay.json["code"] == "transaction_executed"
    assert replay.json["outcome"] == {"payee": "Bob Martin", "status": 200}
    again = post(client)  # a new confirmation of the same transaction: refused, no SMS
    assert again.status_code == 409
    assert harness.executed == [DETAILS]
    assert len(harness.outbox.messages) == sent


def test_a_retry_needs_the_code_within_its_lifetime(harness):
    client = signed_in(harness)
    challenge = post(client).json["challenge_id"]
    code = harness.last_code()
    harness.fail_next = 1
    with pytest.raises(RuntimeError):
        post(client, challenge, code)
    wrong = "000000" if code != "000000" else "111111"
    refused = post(client, challenge, wrong)
    assert refused.status_code == 400 and refused.json["code"] == "invalid_code"
    harness.clock.advance(301)
    late = post(client, challenge, code)
    assert late.status_code == 410 and late.json["code"] == "expired"
    assert harness.executed == []
    assert state(client)["state"] == "expired"


def test_in_production_the_500_answer_is_the_failure(harness):
    """Without exception propagation (production), the app answers 500: still retryable."""
    harness.app.config["PROPAGATE_EXCEPTIONS"] = False
    client = signed_in(harness)
    challenge = post(client).json["challenge_id"]
    code = harness.last_code()
    harness.fail_next = 1
    assert post(client, challenge, code).status_code == 500
    assert state(client)["state"] == "failed"
    assert post(client, challenge, code).status_code == 200
    assert harness.executed == [DETAILS]
