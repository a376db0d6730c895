"""Concurrent requests on the ORM repository, on a real PostgreSQL server: each thread has its
own connection, as each request of a threaded server has.

(The SQLite test database is one in-memory database shared through one cache; it does not
model concurrent connections, so these run on PostgreSQL only. ``tests/sqlalchemy/test_races.py``
races on a SQLite file too.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from otpgate import OtpgateError, TotpCredential
from otpgate.integrations.django.credentials import OrmCredentials

from .conftest import PHONE, make_user

N = 12

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "postgres"]),
    pytest.mark.parametrize("orm_database", ["postgres"], indirect=True),
]


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once, each from its own thread; their results (or errors)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # collected: the test shows it
            results[index] = error
        finally:
            connections.close_all()  # this thread's connections

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_recovery_code_presented_many_times_approves_once(orm_database, gate):
    subject = str(make_user("alice").pk)
    codes = gate.recovery.generate(subject)

    def check() -> bool:
        try:
            gate.check_recovery(subject, codes[4])
        except OtpgateError:
            return False
        return True

    results = race([check] * N)
    assert results.count(True) == 1
    assert results.count(False) == N - 1
    assert gate.recovery.remaining(subject) == 9


def test_racing_new_recovery_codes_leave_exactly_one_set(orm_database):
    creds = OrmCredentials()
    subject = str(make_user("alice").pk)
    creds.replace_recovery_codes(subject, ["old"])
    sets = [[f"set{i}-code{j}" for j in range(10)] for i in range(N)]
    replace = creds.replace_recovery_codes
    results = race([lambda codes=codes: replace(subject, codes) for codes in sets])
    assert results == [None] * N
    valid = [codes for codes in sets if all(creds.has_recovery_code(subject, [c]) for c in codes)]
    assert len(valid) == 1, f"{len(valid)} sets of recovery codes are valid"
    assert creds.recovery_codes_left(subject) == 10


def test_racing_factor_changes_all_succeed(orm_database):
    creds = OrmCredentials()
    subject = str(make_user("alice").pk)
    secrets = [TotpCredential(f"sealed-{i}", True, 1_800_000_000.0 + i) for i in range(N)]
    calls: list[Callable[[], Any]] = []
    for i in range(N):
        calls.append(lambda i=i: creds.set_totp(subject, secrets[i]))
        calls.append(lambda: creds.add_phone(subject, PHONE))
        calls.append(lambda i=i: creds.set_preferred_factor(subject, ("sms", "totp")[i % 2]))
        calls.append(lambda: creds.remove_totp(subject))
    results = race(calls)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert creds.get_totp(subject) in {None, *secrets}
    assert creds.phones(subject) == [PHONE]
    assert creds.preferred_factor(subject) in {"sms", "totp"}
