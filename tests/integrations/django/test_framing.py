"""Framing protection: every otpgate route (read from the URLconf) and the login page answer
with X-Frame-Options and CSP frame-ancestors; one setting relaxes them."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from otpgate.core.framing import CSP
from otpgate.integrations.django.framing import CSP_MIDDLEWARE

from .conftest import full_login, sign_in

pytestmark = pytest.mark.django_db

DENY = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
BODIES: list[dict[str, Any]] = [
    {},
    {"action": "start"},
    {"action": "confirm", "code": "123456"},
    {"action": "send"},
    {"action": "verify", "code": "000000"},
    {"phone": "+33698765432"},
]


def otpgate_urls() -> list[str]:
    """Every URL of otpgate's URLconf, as the site includes it."""
    found: list[str] = []

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "otpgate" and pattern.name:
                route = str(pattern.pattern)
                kwargs: dict[str, Any] = {"pk": 1} if "<int:pk>" in route else {}
                if "<str:credential_id>" in route:
                    kwargs = {"credential_id": "bm8tc3VjaC1wYXNza2V5"}
                found.append(reverse(f"otpgate:{pattern.name}", kwargs=kwargs))

    walk(get_resolver().url_patterns, "")
    assert len(found) >= 10, found
    return found


def responses(client: Any) -> list[tuple[str, Any]]:
    answers = [("login", client.get(reverse("login")))]
    for url in otpgate_urls():
        answers.append((url, client.get(url)))
        for body in BODIES:
            answers.append((url, client.post(url, body)))
    return answers


def assert_framing(answers: list[tuple[str, Any]], expected: dict[str, str]) -> None:
    pages = 0
    for url, response in answers:
        if response.status_code == 404:  # the site's own 404 page (no such phone)
            continue
        for name, value in expected.items():
            assert response.get(name) == value, (url, response.status_code, name)
        if response.get("Content-Type", "").startswith("text/html") and response.content:
            pages += 1
    assert pages >= 8  # the pages themselves were reached, not only redirects


def test_every_otpgate_page_denies_framing(client, sms_user, outbox):
    answers = responses(client)  # anonymous
    full_login(client, outbox)
    answers += responses(client)  # signed in with a second factor
    assert_framing(answers, DENY)


def test_the_second_step_and_a_transaction_page_deny_framing(client, sms_user, outbox):
    sign_in(client, "alice")
    step = client.get(reverse("otpgate:verify"))
    assert step.status_code == 200 and step["X-Frame-Options"] == "DENY"
    full_login(client, outbox)
    confirm = client.post("/transfer/", {"amount": "10", "payee": "Bob"})
    assert b"otp_code" in confirm.content  # otpgate's page, in the site's own view
    assert confirm["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_the_setting_relaxes_it(client, sms_user, outbox):
    with override_settings(OTPGATE_FRAME_ANCESTORS=["self", "https://portal.example"]):
        full_login(client, outbox)
        answers = responses(client)
    assert_framing(
        answers,
        {
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "frame-ancestors 'self' https://portal.example",
        },
    )


def test_a_site_wide_csp_keeps_its_policy_on_otpgate_pages(client, sms_user, outbox):
    """Django's CSP middleware (6.0+) leaves a header a view set alone: otpgate hands it the
    site's policy with frame-ancestors added, rather than replacing the policy."""
    has_csp = importlib.util.find_spec("django.middleware.csp") is not None
    middleware = [*settings.MIDDLEWARE, CSP_MIDDLEWARE] if has_csp else settings.MIDDLEWARE
    with override_settings(SECURE_CSP={"default-src": ["'self'"]}, MIDDLEWARE=middleware):
        sign_in(client, "alice")
        page = client.get(reverse("otpgate:verify"))
    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY"
    expected = "default-src 'self'; frame-ancestors 'none'" if has_csp else DENY[CSP]
    assert page["Content-Security-Policy"] == expected
