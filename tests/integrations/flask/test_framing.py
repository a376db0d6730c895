"""Framing protection: every otpgate route (read from the url_map) and every page otpgate
renders in the app's views answer with X-Frame-Options and CSP frame-ancestors; one setting
relaxes them."""

from __future__ import annotations

import re
from typing import Any

from .conftest import CSRF, Harness, make_app, sms_login

DENY = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
BODIES: list[dict[str, str]] = [
    {},
    {"action": "start"},
    {"action": "confirm", "code": "123456"},
    {"method": "sms", "code": "000000"},
    {"phone": "+33698765432"},
]


def otpgate_calls(harness: Harness) -> list[tuple[str, str]]:
    """(method, URL) of every otpgate rule of the app."""
    calls = []
    for rule in harness.app.url_map.iter_rules():
        if not rule.endpoint.startswith("otpgate."):
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)  # any argument: a placeholder
        calls += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    assert len(calls) >= 10, calls
    return calls


def responses(harness: Harness, client: Any) -> list[tuple[str, Any]]:
    answers = []
    for method, url in otpgate_calls(harness):
        if method == "GET":
            answers.append((url, client.get(url)))
            answers.append((url, client.get(url, headers={"Accept": "application/json"})))
            continue
        for body in BODIES:
            answers.append(
                (url, client.open(url, method=method, data={**body, "csrf_token": CSRF}))
            )
            answers.append(
                (url, client.open(url, method=method, json=body, headers={"X-CSRFToken": CSRF}))
            )
    return answers


def assert_framing(answers: list[tuple[str, Any]], expected: dict[str, str]) -> None:
    pages = 0
    for url, response in answers:
        for name, value in expected.items():
            assert response.headers.get(name) == value, (url, response.status_code, name)
        if response.mimetype == "text/html" and b"<html" in response.data.lower():
            pages += 1
    assert pages >= 5  # otpgate's pages themselves were reached, not only redirects


def test_every_otpgate_page_denies_framing(harness):
    client = harness.client()
    answers = responses(harness, client)  # anonymous
    sms_login(harness, client)
    answers += responses(harness, client)  # signed in, second factor passed
    assert_framing(answers, DENY)


def test_a_transaction_page_in_the_apps_view_denies_framing(harness):
    client = harness.client()
    sms_login(harness, client)
    page = client.post("/transfer", data={"amount": "10", "payee": "Bob", "csrf_token": CSRF})
    assert page.status_code == 200 and b"otpgate_code" in page.data
    assert {name: page.headers.get(name) for name in DENY} == DENY


def test_the_setting_relaxes_it(clock, outbox):
    harness = make_app(clock, outbox, OTPGATE_FRAME_ANCESTORS="self https://portal.example")
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    client = harness.client()
    sms_login(harness, client)
    assert_framing(
        responses(harness, client),
        {
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "frame-ancestors 'self' https://portal.example",
        },
    )
