"""The ORM credential repositories (sync and async): the preferred factor, and the migrations
matching the models; each test on SQLite and on PostgreSQL (``orm_database``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from otpgate import FactorNotEnrolled, FactorNotPreferable, MalformedInput

from .conftest import BOTH_DATABASES, PHONE, make_user

pytestmark = BOTH_DATABASES


def test_the_migrations_match_the_models(orm_database):
    out = io.StringIO()
    call_command("makemigrations", "otpgate", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_a_preferred_factor_is_stored_replaced_and_cleared(orm_database):
    from otpgate.integrations.django.credentials import OrmCredentials

    creds = OrmCredentials()
    alice, bob = str(make_user("alice").pk), str(make_user("bob").pk)
    assert creds.preferred_factor(alice) is None
    creds.set_preferred_factor(alice, "sms")
    creds.set_preferred_factor(bob, "totp")
    creds.set_preferred_factor(alice, "totp")
    assert creds.preferred_factor(alice) == "totp"
    creds.set_preferred_factor(alice, None)
    creds.set_preferred_factor(alice, None)  # clearing twice is fine
    assert creds.preferred_factor(alice) is None
    assert creds.preferred_factor(bob) == "totp"
    for name in ("", "x" * 33, 42):
        with pytest.raises(MalformedInput):
            creds.set_preferred_factor(bob, name)
    assert creds.preferred_factor(bob) == "totp"


def test_the_preference_goes_with_the_user(orm_database):
    from otpgate.integrations.django.credentials import OrmCredentials
    from otpgate.integrations.django.models import PreferredFactor

    user = make_user("carol")
    OrmCredentials().set_preferred_factor(str(user.pk), "sms")
    user.delete()
    assert not PreferredFactor.objects.exists()


@pytest.mark.django_db(transaction=True, databases=["default", "postgres"])
async def test_the_async_repository_stores_the_preference_too(orm_database):
    from asgiref.sync import sync_to_async

    from otpgate.integrations.django.credentials import AsyncOrmCredentials, OrmCredentials

    creds = AsyncOrmCredentials()
    subject = str((await sync_to_async(make_user)("dave")).pk)
    assert await creds.preferred_factor(subject) is None
    await creds.set_preferred_factor(subject, "sms")
    await creds.set_preferred_factor(subject, "recovery")
    assert await creds.preferred_factor(subject) == "recovery"
    assert await sync_to_async(OrmCredentials().preferred_factor)(subject) == "recovery"
    await creds.set_preferred_factor(subject, None)
    assert await creds.preferred_factor(subject) is None
    with pytest.raises(MalformedInput):
        await creds.set_preferred_factor(subject, "")


def test_the_verifier_keeps_the_choice_in_the_database(orm_database, gate, outbox):
    subject = str(make_user("erin").pk)
    assert gate.preferred_factor(subject) is None
    with pytest.raises(FactorNotEnrolled):
        gate.set_preferred_factor(subject, "sms")
    gate.credentials.add_phone(subject, PHONE)
    gate.recovery.generate(subject)
    assert gate.preferred_factor(subject) == "sms"
    gate.set_preferred_factor(subject, "sms")
    from otpgate.integrations.django.models import PreferredFactor

    assert PreferredFactor.objects.get(user_id=subject).factor == "sms"
    with pytest.raises(FactorNotPreferable):  # a single-use fallback is never the default
        gate.set_preferred_factor(subject, "recovery")
    assert PreferredFactor.objects.get(user_id=subject).factor == "sms"
    # a row naming it (written before the rule) is ignored: the step opens on the phone
    PreferredFactor.objects.filter(user_id=subject).update(factor="recovery")
    assert gate.preferred_factor(subject) == "sms"
    assert [option.name for option in gate.offer(subject, "login")] == ["sms", "recovery"]
    assert gate.start(subject, "recovery", purpose="login") is None
    assert outbox.messages == []
