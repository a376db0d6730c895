"""Schemathesis against the example service's OpenAPI schema, in-process (ASGI).

Every operation gets a bounded number of generated requests, as alice; no answer may be a
server error or contradict the schema (status codes, content types, headers, bodies), and
schema-invalid requests must be refused with a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.fastapi import OtpGate

from .conftest import SETTINGS, load_example

EXAMPLES_PER_OPERATION = 25

example = load_example()
gate = OtpGate(
    SETTINGS,
    store=MemoryStore(),
    sender=OutboxSender(),
    database_url="sqlite+aiosqlite://",
    current_subject=example.current_subject,
)
schema = schemathesis.openapi.from_asgi("/openapi.json", example.create_app(gate))


@pytest.fixture(scope="module", autouse=True)
def stop_the_app() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # the app's lifespan runs from the first request to here


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_by_its_schema(case: schemathesis.Case) -> None:
    # Every other default check runs. Not "schema-valid data is accepted": a well-formed
    # code can be wrong, a well-formed number unable to receive SMS; those are 4xx by design.
    # Every operation declares the Authorization header: a case without it was made without
    # it on purpose (schema-invalid data, to be refused), so alice's token is not added back.
    signed_in = "Authorization" in (case.headers or {})
    case.call_and_validate(
        headers={"Authorization": "Bearer alice-token"} if signed_in else None,
        excluded_checks=[positive_data_acceptance],
    )
