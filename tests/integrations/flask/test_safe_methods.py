"""A transaction is confirmed only by a state-changing request: a view that calls
``confirm_transaction`` on any method answers GET, HEAD, OPTIONS and TRACE (a link preview,
a crawler) with 405 and ``Allow``, sends nothing, records nothing, leaves the session alone."""

from __future__ import annotations

import pytest

from otpgate.core.confirmations import Confirmations
from otpgate.core.web import view_action
from tests.integrations.flask.conftest import sms_login

ALLOW = "POST, PUT, PATCH, DELETE"
PATH = "/any-method-transfer"


def _signed_in(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.outbox.clear()
    return client


def _session(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_safe_request_sends_no_code(harness, method, accept):
    client = _signed_in(harness)
    before = _session(client)
    answer = client.open(PATH, method=method, headers={"Accept": accept})
    assert answer.status_code == 405
    assert answer.headers["Allow"] == ALLOW
    assert harness.outbox.messages == [] and harness.executed == []
    assert _session(client) == before
    action = view_action(method, "any_method_transfer")
    details = {"amount": "", "payee": ""}
    state = Confirmations(harness.verifier).state("alice", action, details)
    assert state.state == "unknown"
    if method == "GET" and accept == "application/json":
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json["code"] == "method_not_allowed"
    elif method == "GET":
        assert "This request method is not allowed here." in answer.get_data(as_text=True)


def test_a_post_to_the_same_view_sends_the_code(harness):
    client = _signed_in(harness)
    answer = client.post(PATH, json={"amount": "5.00", "payee": "Bob"})
    assert answer.status_code == 401 and answer.json["code"] == "confirmation_required"
    assert len(harness.outbox.messages) == 1
