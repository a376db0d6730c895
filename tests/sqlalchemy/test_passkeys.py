"""The passkey half of SQLAlchemyCredentials and AsyncSQLAlchemyCredentials on each database,
and passkeys end to end on a verifier backed by them."""

from __future__ import annotations

from otpgate import AsyncVerifier, Settings, Verifier
from otpgate.core.credentials import MemoryCredentials
from otpgate.sqlalchemy import AsyncSQLAlchemyCredentials, SQLAlchemyCredentials
from tests.conftest import KEY, Sync
from tests.passkey_authenticator import SoftAuthenticator
from tests.passkey_repository import exercise_passkey_repository

from .test_credentials import creds  # noqa: F401

ORIGIN = "https://shop.example"
SETTINGS = Settings(secret_keys=(KEY,), webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))


def test_every_repository_keeps_passkeys(creds):  # noqa: F811
    exercise_passkey_repository(creds, "alice", "bob")


def test_the_memory_repository_keeps_passkeys_alike():
    exercise_passkey_repository(MemoryCredentials(), "alice", "bob")


def test_a_verifier_registers_and_signs_in_with_the_database(creds, loop):  # noqa: F811
    repository = getattr(creds, "_target", creds)
    if isinstance(repository, AsyncSQLAlchemyCredentials):
        gate = Sync(AsyncVerifier(SETTINGS, credentials=repository), loop)
    else:
        assert isinstance(repository, SQLAlchemyCredentials)
        gate = Verifier(SETTINGS, credentials=repository)
    authenticator = SoftAuthenticator(ORIGIN)
    setup = gate.setup("alice", "webauthn", name="Laptop")
    answer = authenticator.create(setup.challenge.browser_options)
    gate.verify("alice", "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    for _ in range(2):
        challenge = gate.start("alice", "webauthn", purpose="login")
        answer = authenticator.get(challenge.browser_options)
        gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
    [key] = creds.passkeys("alice")
    assert (key.name, key.sign_count) == ("Laptop", 2)
