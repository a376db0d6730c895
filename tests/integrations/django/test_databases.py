"""The ORM repositories, the migrations and a sign-in on each database: SQLite and a real
PostgreSQL server (psycopg 3), through the ``orm_database`` fixture."""

from __future__ import annotations

import contextlib

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections

from otpgate import MalformedInput, TotpCredential
from otpgate.integrations.django.credentials import AsyncOrmCredentials, OrmCredentials
from otpgate.integrations.django.models import RecoveryCode, TotpDevice, VerifiedPhone

from .conftest import BOTH_DATABASES, OTHER_PHONE, PHONE, full_login, make_user

TABLES = {
    "otpgate_verifiedphone",
    "otpgate_totpdevice",
    "otpgate_recoverycode",
    "otpgate_preferredfactor",
}
VENDORS = {"default": "sqlite", "postgres": "postgresql"}


@BOTH_DATABASES
def test_the_repository_keeps_factors_in_the_chosen_database(orm_database):
    assert connections[orm_database].vendor == VENDORS[orm_database]
    creds = OrmCredentials()
    alice = str(make_user("alice").pk)
    creds.add_phone(alice, PHONE)
    creds.add_phone(alice, OTHER_PHONE)
    creds.add_phone(alice, PHONE)
    assert creds.phones(alice) == [PHONE, OTHER_PHONE]
    assert creds.remove_phone(alice, PHONE) is True
    assert creds.remove_phone(alice, PHONE) is False
    creds.set_totp(alice, TotpCredential("sealed-1", False, 1_800_000_000.25))
    creds.set_totp(alice, TotpCredential("sealed-2", True, 1_800_000_001.5))
    assert creds.get_totp(alice) == TotpCredential("sealed-2", True, 1_800_000_001.5)
    creds.replace_recovery_codes(alice, ["d1", "d2", "d3"])
    assert creds.use_recovery_code(alice, ["x", "d2"]) is True
    assert creds.use_recovery_code(alice, ["d2"]) is False
    assert creds.has_recovery_code(alice, ["d1"]) is True
    assert creds.recovery_codes_left(alice) == 2
    creds.replace_recovery_codes(alice, ["e1"])
    assert creds.has_recovery_code(alice, ["d1"]) is False
    # The rows are in that database (and only there).
    assert VerifiedPhone.objects.using(orm_database).count() == 1
    assert TotpDevice.objects.using(orm_database).count() == 1
    assert RecoveryCode.objects.using(orm_database).count() == 1
    other = "default" if orm_database == "postgres" else "postgres"
    assert VerifiedPhone.objects.using(other).count() == 0


@pytest.mark.django_db(transaction=True, databases=["default", "postgres"])
async def test_the_async_repository_on_each_database(orm_database):
    creds = AsyncOrmCredentials()
    bob = str((await sync_to_async(make_user)("bob")).pk)
    await creds.add_phone(bob, PHONE)
    await creds.add_phone(bob, PHONE)
    assert await creds.phones(bob) == [PHONE]
    await creds.set_totp(bob, TotpCredential("sealed", True, 1_800_000_000.0))
    assert (await creds.get_totp(bob)).sealed_secret == "sealed"
    await creds.replace_recovery_codes(bob, ["d1", "d2"])
    assert await creds.use_recovery_code(bob, ["d1"]) is True
    assert await creds.use_recovery_code(bob, ["d1"]) is False
    assert await creds.recovery_codes_left(bob) == 1
    assert await creds.remove_totp(bob) is True
    count = sync_to_async(lambda: VerifiedPhone.objects.using(orm_database).count())
    assert await count() == 1


@pytest.mark.django_db(transaction=True, databases=["default", "postgres"])
def test_the_migrations_apply_backward_and_forward(orm_database):
    def tables() -> set[str]:
        return TABLES & set(connections[orm_database].introspection.table_names())

    assert tables() == TABLES
    call_command("migrate", "otpgate", "zero", database=orm_database, verbosity=0)
    assert tables() == set()
    call_command("migrate", "otpgate", "0001", database=orm_database, verbosity=0)
    assert tables() == TABLES - {"otpgate_preferredfactor"}
    call_command("migrate", "otpgate", database=orm_database, verbosity=0)
    assert tables() == TABLES
    user = make_user("carol")  # the tables work again
    OrmCredentials().add_phone(str(user.pk), PHONE)
    assert OrmCredentials().phones(str(user.pk)) == [PHONE]


@BOTH_DATABASES
def test_a_sign_in_with_an_sms_code_on_each_database(orm_database, client, outbox, gate):
    person = make_user("alice")
    gate.credentials.add_phone(str(person.pk), PHONE)
    response = full_login(client, outbox)
    assert response.status_code == 302
    assert client.get("/2fa/api/status").json()["verified"] is True
    assert VerifiedPhone.objects.using(orm_database).get().user_id == person.pk


@BOTH_DATABASES
@pytest.mark.parametrize("subject", ["9" * 30, "1e3", "", "x", "1\x00"])
def test_a_subject_that_is_no_user_id_is_bad_input_on_each_database(orm_database, subject):
    # Never a 500 (SQLite overflows on a 30-digit id) nor a 503: refused, or nobody's factors.
    creds = OrmCredentials()
    for read in (creds.phones, creds.get_totp, creds.recovery_codes_left):
        with contextlib.suppress(MalformedInput):
            assert not read(subject)
    with pytest.raises(MalformedInput):
        creds.add_phone(subject, PHONE)
