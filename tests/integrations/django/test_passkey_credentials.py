"""Passkeys in the Django ORM: ``OrmCredentials`` and ``AsyncOrmCredentials`` keep them as
every repository must (``tests/passkey_repository.py``), and they go with their user."""

from __future__ import annotations

import asyncio

import pytest

from otpgate import AsyncVerifier, Settings
from tests.conftest import KEY
from tests.passkey_authenticator import SoftAuthenticator
from tests.passkey_repository import exercise_passkey_repository, passkey

from .conftest import full_login, make_user

ORIGIN = "https://shop.example"
SETTINGS = Settings(secret_keys=(KEY,), webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))


class _Blocking:
    """The async repository seen synchronously, from a thread without a running loop."""

    def __init__(self, target: object) -> None:
        self._target = target

    def __getattr__(self, name: str):
        method = getattr(self._target, name)
        return lambda *args: asyncio.run(method(*args))


@pytest.mark.django_db
def test_the_sync_repository_keeps_passkeys():
    from otpgate.integrations.django.credentials import OrmCredentials
    from otpgate.integrations.django.models import WebAuthnCredential

    alice, bob = str(make_user("alice").pk), str(make_user("bob").pk)
    exercise_passkey_repository(OrmCredentials(), alice, bob)
    WebAuthnCredential.objects.get(user_id=bob).user.delete()
    assert not WebAuthnCredential.objects.filter(user_id=bob).exists()


@pytest.mark.django_db(transaction=True)
def test_the_async_repository_keeps_passkeys():
    from otpgate.integrations.django.credentials import AsyncOrmCredentials

    alice, bob = str(make_user("carol").pk), str(make_user("dave").pk)
    exercise_passkey_repository(_Blocking(AsyncOrmCredentials()), alice, bob)


@pytest.mark.django_db
def test_a_subject_that_is_no_user_id_is_malformed():
    from otpgate import MalformedInput
    from otpgate.integrations.django.credentials import OrmCredentials

    with pytest.raises(MalformedInput):
        OrmCredentials().add_passkey("not-a-number", passkey("AAAA"))


@pytest.mark.django_db(transaction=True)
async def test_an_async_verifier_registers_and_signs_in_on_the_orm():
    from asgiref.sync import sync_to_async

    from otpgate.integrations.django.credentials import AsyncOrmCredentials

    subject = str((await sync_to_async(make_user)("erin")).pk)
    gate = AsyncVerifier(SETTINGS, credentials=AsyncOrmCredentials())
    authenticator = SoftAuthenticator(ORIGIN)
    setup = await gate.setup(subject, "webauthn", name="Laptop")
    answer = authenticator.create(setup.challenge.browser_options)
    await gate.verify(
        subject, "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id
    )
    challenge = await gate.start(subject, "webauthn", purpose="login")
    answer = authenticator.get(challenge.browser_options)
    await gate.verify(subject, "webauthn", answer, purpose="login", challenge_id=challenge.id)
    assert (await gate.factors(subject)).passkeys == ("Laptop",)
    assert (await gate.passkeys.list(subject))[0].sign_count == 1


@pytest.mark.django_db
def test_the_admin_lists_passkeys_without_their_keys(client, sms_user, outbox):
    from otpgate.integrations.django.credentials import OrmCredentials
    from otpgate.integrations.django.models import WebAuthnCredential

    key = passkey("QUJDRA", "Alice's laptop")
    assert OrmCredentials().add_passkey(str(sms_user.pk), key)
    full_login(client, outbox)
    row = WebAuthnCredential.objects.get()
    pages = ""
    for path in (
        "/admin/otpgate/webauthncredential/",
        f"/admin/otpgate/webauthncredential/{row.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        pages += response.content.decode()
    assert "Alice&#x27;s laptop" in pages
    assert "public key" not in pages.lower()
    response = client.post(
        "/admin/otpgate/webauthncredential/",
        {"action": "reset_owners", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.exists()
