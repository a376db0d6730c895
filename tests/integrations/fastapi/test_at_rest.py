"""What the FastAPI integration keeps in the store (each token's step-up state, the
transactions' records) holds nothing personal in clear either."""

from __future__ import annotations

import pytest

from tests.at_rest import phone_forms
from tests.conftest import PHONE
from tests.integrations.fastapi.conftest import bearer

SUBJECT = "alice-martin-7f3a9c"


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_the_ledger_keeps_no_subject_or_number_in_clear(harness, redis_server):
    await harness.add_phone(SUBJECT)
    await harness.pass_sms(f"{SUBJECT}.1")  # the token's step-up state is written
    transfer = {"id": "t-1", "amount": "250.00", "payee": "Bob"}
    asked = await harness.client.post("/transfers", json=transfer, headers=bearer(SUBJECT))
    assert asked.status_code == 401, asked.text  # confirmation_required
    done = await harness.client.post(
        "/transfers",
        json=transfer,
        headers={
            **bearer(SUBJECT),
            "OTP-Challenge": asked.json()["challenge"]["id"],
            "OTP-Code": harness.code(),
        },
    )
    assert done.status_code == 200, done.text
    assert (await harness.client.get("/secret", headers=bearer(f"{SUBJECT}.1"))).status_code == 200

    prefix = harness.gate.verifier.store.prefix
    held: list[tuple[str, str]] = []
    with redis_server.client() as client:
        for key in client.scan_iter(match=f"{prefix}*", count=100):
            value = client.dump(key) or b""
            if client.type(key) == b"string":
                value += client.get(key) or b""
            held.append((key.decode(), value.decode("utf-8", "backslashreplace")))
    states = [key for key, _ in held if key.endswith(":v")]  # P{K}:v, see otpgate.redis.keyed
    assert states, [key for key, _ in held]  # the step-up state is there
    secrets = [SUBJECT, *phone_forms(PHONE)]
    found = [(key, s) for key, value in held for s in secrets if s in key or s in value]
    assert not found, f"in clear in Redis: {found}"
