"""Passkey challenges in Redis: single use through the same Lua script as SMS codes, and
nothing in clear: neither the subject, nor the WebAuthn challenge, nor the passkey's name."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate import AsyncVerifier, ChallengeExpired, Settings, Verifier
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, FakeClock, Sync
from tests.passkey_authenticator import SoftAuthenticator

from .test_at_rest import _close, everything

pytestmark = pytest.mark.redis

ORIGIN = "https://shop.example"
SETTINGS = Settings(secret_keys=(KEY,), webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))
SUBJECT = "subject-7f3a9c-alice.martin@example.org"


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_redis_keeps_passkey_challenges_single_use_and_sealed(own_server, loop, flavour):
    clock = FakeClock()
    store: Any
    if flavour == "sync":
        store = RedisStore.from_url(own_server.url)
        gate = Sync(Verifier(SETTINGS, store=store, clock=clock), loop)
    else:
        store = AsyncRedisStore.from_url(own_server.url)
        gate = Sync(AsyncVerifier(SETTINGS, store=store, clock=clock), loop)
    try:
        exercise(gate, own_server)
    finally:
        _close(gate, flavour)


def exercise(gate: Any, own_server: Any) -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    setup = gate.setup(SUBJECT, "webauthn", name="Alice's work laptop")
    answer = authenticator.create(setup.challenge.browser_options)
    gate.verify(SUBJECT, "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    pending = gate.start(SUBJECT, "webauthn", purpose="transaction", context={"iban": "FR76"})
    signed = authenticator.get(pending.browser_options)

    held = everything(own_server)
    assert len(held) >= 2  # both challenges are there
    text = " ".join(
        part.decode("utf-8", "backslashreplace") for _, parts in held.values() for part in parts
    )
    for secret in (
        SUBJECT,
        "Alice's work laptop",
        setup.challenge.browser_options["challenge"],
        pending.browser_options["challenge"],
        "FR76",
    ):
        assert secret not in text

    gate.verify(
        SUBJECT,
        "webauthn",
        signed,
        purpose="transaction",
        challenge_id=pending.id,
        context={"iban": "FR76"},
    )
    with pytest.raises(ChallengeExpired):
        gate.verify(
            SUBJECT,
            "webauthn",
            signed,
            purpose="transaction",
            challenge_id=pending.id,
            context={"iban": "FR76"},
        )
