"""Every rule of otpgate's blueprint (the app's url_map) answers OPTIONS with 200, an empty
body and ``Allow``, and HEAD wherever GET is with no body and no side effect (no SMS, the
session as it was, nobody's factors changed), for every kind of session; never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integrations.flask.conftest import Harness, password_login, sms_login


def _rules(harness: Harness) -> list[Any]:
    rules = [r for r in harness.app.url_map.iter_rules() if r.endpoint.startswith("otpgate.")]
    assert len(rules) >= 12
    return rules


def _path(rule: Any) -> str:
    return rule.rule.replace("<", "").replace(">", "")  # (no rule takes arguments today)


def _session(client: Any) -> dict:
    """The session, but Flask-Login's ``_fresh`` (it marks any request of an anonymous
    client, a 404 of the app's included: the login manager's, not otpgate's)."""
    with client.session_transaction() as session:
        return {key: value for key, value in session.items() if key != "_fresh"}


def _clients(harness: Harness) -> dict[str, Any]:
    pending, signed_in, no_factor = harness.client(), harness.client(), harness.client()
    password_login(pending)
    sms_login(harness, signed_in)
    password_login(no_factor, "bob")
    return {
        "anonymous": harness.client(),
        "pending": pending,
        "signed in": signed_in,
        "no factor": no_factor,
    }


@pytest.mark.parametrize("who", ["anonymous", "pending", "signed in", "no factor"])
def test_options_and_head_on_every_rule(harness: Harness, who: str):
    client = _clients(harness)[who]
    harness.outbox.clear()
    factors = [harness.credentials.phones(u) for u in ("alice", "bob")]
    for rule in _rules(harness):
        path, where = _path(rule), f"{who} {rule.rule}"
        before = _session(client)
        options = client.options(path)
        assert options.status_code in (200, 204), where
        assert options.get_data() == b"", where
        allow = {m.strip() for m in options.headers["Allow"].split(",")}
        assert (rule.methods or set()) <= allow, where
        head = client.head(path)
        assert head.status_code < 500, where
        assert head.get_data() == b"", where
        if "GET" in rule.methods:
            assert head.status_code != 405, where
        assert _session(client) == before, where
        assert harness.outbox.messages == [], where
        assert [harness.credentials.phones(u) for u in ("alice", "bob")] == factors, where
