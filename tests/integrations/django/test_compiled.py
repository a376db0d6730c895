"""Issue 17: the read a right SMS code makes (the user's numbers) runs SQL the ORM compiled
once per database, and answers exactly as the queryset does, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connections

from otpgate import MalformedInput
from otpgate.integrations.django import compiled
from otpgate.integrations.django.compiled import CompiledRead
from otpgate.integrations.django.credentials import OrmCredentials
from otpgate.integrations.django.models import VerifiedPhone

from .conftest import BOTH_DATABASES, OTHER_PHONE, PHONE, make_user


def _orm(subject: object) -> list[str]:
    rows = VerifiedPhone.objects.filter(user_id=subject).order_by("id")
    return list(rows.values_list("e164", flat=True))


@BOTH_DATABASES
def test_the_numbers_are_those_the_queryset_reads(orm_database, monkeypatch):
    compiles: list[str] = []
    real = CompiledRead._compile

    def counting(self: CompiledRead, *args: object) -> str | None:
        compiles.append(str(args[1]))
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(CompiledRead, "_compile", counting)
    read = CompiledRead(VerifiedPhone, "user", compiled.phones_of._build)
    alice, bob, carol = (make_user(name) for name in ("alice", "bob", "carol"))
    creds = OrmCredentials()
    creds.add_phone(str(alice.pk), OTHER_PHONE)
    creds.add_phone(str(alice.pk), PHONE)
    creds.add_phone(str(bob.pk), PHONE)
    for user in (alice, bob, carol, alice):
        subject = str(user.pk)
        assert read(subject) == _orm(subject) == _orm(user.pk)
    assert read(str(alice.pk)) == [OTHER_PHONE, PHONE]  # oldest first
    assert read(str(carol.pk)) == []
    assert compiles == [orm_database]  # compiled once for this database, then reused
    assert connections[orm_database].vendor in {"sqlite", "postgresql"}


@BOTH_DATABASES
@pytest.mark.parametrize("subject", ["x", "", "1.5", "1\x00", "9" * 30])
def test_a_subject_that_is_no_user_id_is_refused_as_before(orm_database, subject):
    creds = OrmCredentials()
    creds.add_phone(str(make_user("alice").pk), PHONE)  # the SQL is compiled and kept
    assert creds.phones(str(make_user("bob").pk)) == []
    try:
        found = creds.phones(subject)
    except MalformedInput:
        return
    assert found == []  # never someone's numbers, never a 500 or a 503


@BOTH_DATABASES
def test_a_query_with_more_parameters_is_left_to_the_orm(orm_database):
    alice = make_user("alice")
    OrmCredentials().add_phone(str(alice.pk), PHONE)
    OrmCredentials().add_phone(str(alice.pk), OTHER_PHONE)
    read = CompiledRead(
        VerifiedPhone,
        "user",
        lambda subject: VerifiedPhone.objects.filter(user_id=subject, e164=PHONE).values_list(
            "e164", flat=True
        ),
    )
    for _ in range(2):
        assert read(str(alice.pk)) == [PHONE]
    assert read._sql == {}  # two parameters: nothing kept, the ORM answered each time
