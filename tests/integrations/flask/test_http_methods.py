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


POST_ONLY = ["/otp/recovery", "/otp/totp", "/otp/preferred", "/otp/verify/cancel"]


@pytest.mark.parametrize("path", POST_ONLY)
def test_a_get_of_a_post_only_url_is_otpgates_translated_page(harness: Harness, path: str):
    client = harness.client()
    sms_login(harness, client)
    assert path in {rule.rule for rule in _rules(harness)}
    page = client.get(path, headers={"Accept-Language": "fr"})
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
    text = page.get_data(as_text=True)
    assert "<html" in text and 'lang="fr"' in text
    assert "Cette méthode de requête n" in text and "est pas autorisée ici." in text
    assert "Method Not Allowed" not in text
    assert "frame-ancestors" in page.headers.get("Content-Security-Policy", "") or page.headers.get(
        "X-Frame-Options"
    )
    head = client.head(path)
    assert head.status_code == 405 and "POST" in head.headers["Allow"] and head.get_data() == b""
    api = client.get(path, headers={"Accept": "application/json"})
    assert api.status_code == 405 and "POST" in api.headers["Allow"]
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["code"] == "method_not_allowed"


def test_the_apps_own_urls_keep_werkzeugs_405(harness: Harness):
    rules = {r.rule: r for r in harness.app.url_map.iter_rules()}
    post_only = [
        path
        for path, rule in rules.items()
        if not rule.endpoint.startswith("otpgate.") and "GET" not in (rule.methods or set())
    ]
    assert post_only
    for path in post_only:
        answer = harness.client().get(path)
        assert answer.status_code == 405 and "Method Not Allowed" in answer.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/otp/", "/otp/verify", "/otp/phone", "/otp/totp/remove"])
def test_a_head_sends_no_session_cookie(harness: Harness, path: str):
    """A HEAD whose GET would write the session (the management page's one-time form token)
    answers with no ``Set-Cookie``: a re-signed copy of the old session, arriving after a
    concurrent POST (a sign-out, a sign-in), would put that session back in the browser."""
    client = harness.client()
    sms_login(harness, client)
    before = _session(client)
    head = client.head(path)
    assert head.status_code < 500
    assert "Set-Cookie" not in head.headers, path
    assert _session(client) == before
    assert "Set-Cookie" in client.get("/otp/").headers  # the GET does write it
