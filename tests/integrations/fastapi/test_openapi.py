"""The OpenAPI schema documents every error otpgate's routes and dependencies can answer."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate import MemoryStore, OutboxSender
from tests.conftest import FakeClock

from .conftest import load_example, make_app, make_gate

PROBLEM = "application/problem+json"
DEPENDENT_ROUTES = {"/secret", "/transfers", "/payments/{payment_id}/execute"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


@pytest.fixture(params=["test app", "example"])
def schema(request: pytest.FixtureRequest) -> dict[str, Any]:
    clock, outbox = FakeClock(), OutboxSender()
    if request.param == "example":
        example = load_example()
        gate = make_gate(MemoryStore(), clock, outbox, current_subject=example.current_subject)
        return example.create_app(gate).openapi()
    return make_app(make_gate(MemoryStore(), clock, outbox), []).openapi()


def test_every_otpgate_route_documents_its_errors_as_problems(schema: dict[str, Any]):
    otpgate_routes = [op for op in operations(schema) if op[0].startswith("/otpgate/")]
    # 17 (with factor setup), the remembered devices (4), factor confirm and passkeys (4)
    assert len(otpgate_routes) == 25
    for path, method, operation in otpgate_routes + [
        op for op in operations(schema) if op[0] in DEPENDENT_ROUTES
    ]:
        responses = operation["responses"]
        errors = {status for status in responses if not status.startswith("2")}
        where = f"{method.upper()} {path}"
        assert {"401", "503", "4XX"} <= errors, where
        for status in errors:
            content = responses[status]["content"]
            assert list(content) == [PROBLEM], (where, status)
            properties = content[PROBLEM]["schema"]["properties"]
            assert {"type", "title", "status", "code"} <= set(properties), (where, status)
            assert responses[status]["description"], (where, status)
        assert "422" not in responses or "phone" in responses["422"]["description"], where
        if "429" in responses:
            assert "Retry-After" in responses["429"]["headers"], where
        assert "WWW-Authenticate" in responses["401"]["headers"], where
        assert "insufficient_user_authentication" in responses["401"]["description"]


def test_transaction_routes_document_the_confirmation_protocol(schema: dict[str, Any]):
    for path, _, operation in operations(schema):
        if path not in {"/transfers", "/payments/{payment_id}/execute"}:
            continue
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert {"OTP-Challenge", "OTP-Code", "OTP-Factor"} <= headers
        responses = operation["responses"]
        assert {"400", "403", "409", "410", "401", "429", "502"} <= set(responses)
        assert "OTP-Factor" in responses["401"]["description"]
        assert "factor_setup_required" in responses["409"]["description"]
        assert "OTP-Challenge" in responses["401"]["headers"]
        problem = responses["401"]["content"][PROBLEM]["schema"]["properties"]
        assert {"challenge", "challenge_id", "factor", "factors", "links"} <= set(problem)


def test_no_response_model_carries_a_code_or_a_full_number(schema: dict[str, Any]):
    components = schema["components"]["schemas"]
    for name in ["ChallengeOut", "FactorsOut", "VerificationOut"]:
        fields = set(components[name]["properties"])
        assert not fields & {"code", "phone", "secret", "subject"}, name
    # the two one-time answers are the only ones with secrets
    assert "secret" in components["TotpEnrollmentOut"]["properties"]
    assert "codes" in components["RecoveryCodesOut"]["properties"]
