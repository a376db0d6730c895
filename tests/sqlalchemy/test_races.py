"""Concurrent calls of the SQL repository, on SQLite and on a real PostgreSQL server: threads
(each with its own pooled connection) for the sync class, tasks on one loop for the async one.

One recovery code presented twenty times is accepted once; factor changes racing each other
(new recovery codes, an app set-up, a phone, a preference) all succeed and leave one coherent
state: never two sets of recovery codes, never a duplicate row, never an error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from otpgate import (
    AsyncVerifier,
    OtpgateError,
    StorageUnavailable,
    TotpCredential,
    Verification,
    Verifier,
)
from otpgate.sqlalchemy import AsyncSQLAlchemyCredentials, SQLAlchemyCredentials, create_all_async
from tests.conftest import PHONE

N = 12


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

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def code_sets(count: int = N) -> list[list[str]]:
    return [[f"set{i}-code{j}" for j in range(10)] for i in range(count)]


def assert_one_set_of_codes_left(creds: Any, sets: list[list[str]]) -> None:
    valid = [codes for codes in sets if all(creds.has_recovery_code("u1", [c]) for c in codes)]
    assert len(valid) == 1, f"{len(valid)} sets of recovery codes are valid"
    assert creds.recovery_codes_left("u1") == 10


def test_twenty_threads_one_code_one_winner(sync_engine):
    creds = SQLAlchemyCredentials(sync_engine)
    creds.replace_recovery_codes("u1", [f"d{i}" for i in range(10)])
    results = race([lambda: creds.use_recovery_code("u1", ["d7"])] * 20)
    assert results.count(True) == 1
    assert results.count(False) == 19  # no StorageUnavailable either
    assert creds.recovery_codes_left("u1") == 9


async def test_twenty_tasks_one_code_one_winner(database):
    engine = database.async_engine()
    await create_all_async(engine)
    creds = AsyncSQLAlchemyCredentials(engine)
    await creds.replace_recovery_codes("u1", [f"d{i}" for i in range(10)])
    results = await asyncio.gather(*(creds.use_recovery_code("u1", ["d3"]) for _ in range(20)))
    assert results.count(True) == 1
    assert await creds.recovery_codes_left("u1") == 9
    await engine.dispose()


def test_one_recovery_code_many_sign_ins_one_approval(sync_engine, settings):
    gate = Verifier(settings, credentials=SQLAlchemyCredentials(sync_engine))
    codes = gate.recovery.generate("u1")

    def sign_in() -> bool:
        try:
            gate.check_recovery("u1", codes[2])
        except OtpgateError:
            return False
        return True

    results = race([sign_in] * N)
    assert results.count(True) == 1
    assert results.count(False) == N - 1
    assert gate.recovery.remaining("u1") == 9


async def test_one_recovery_code_many_sign_ins_one_approval_async(database, settings):
    engine = database.async_engine()
    await create_all_async(engine)
    gate = AsyncVerifier(settings, credentials=AsyncSQLAlchemyCredentials(engine))
    codes = await gate.recovery.generate("u1")
    checks = [gate.check_recovery("u1", codes[5]) for _ in range(N)]
    results = await asyncio.gather(*checks, return_exceptions=True)
    assert sum(isinstance(r, Verification) for r in results) == 1
    assert sum(isinstance(r, OtpgateError) for r in results) == N - 1
    assert await gate.recovery.remaining("u1") == 9
    await engine.dispose()


def test_racing_new_recovery_codes_leave_exactly_one_set(sync_engine):
    # Two browser tabs pressing "new recovery codes" at once: each shows its set, and only
    # the set of the one that finished last may work; the other is void.
    creds = SQLAlchemyCredentials(sync_engine)
    creds.replace_recovery_codes("u1", ["old"])
    sets = code_sets()
    results = race(
        [lambda codes=codes: creds.replace_recovery_codes("u1", codes) for codes in sets]
    )
    assert results == [None] * N
    assert_one_set_of_codes_left(creds, sets)
    assert not creds.has_recovery_code("u1", ["old"])


async def test_racing_new_recovery_codes_leave_exactly_one_set_async(database):
    engine = database.async_engine()
    await create_all_async(engine)
    creds = AsyncSQLAlchemyCredentials(engine)
    sets = code_sets()
    await asyncio.gather(*(creds.replace_recovery_codes("u1", codes) for codes in sets))
    valid = [codes for codes in sets if await creds.has_recovery_code("u1", codes[:1])]
    assert len(valid) == 1
    assert all([await creds.has_recovery_code("u1", [c]) for c in valid[0]])
    assert await creds.recovery_codes_left("u1") == 10
    await engine.dispose()


def test_racing_factor_changes_all_succeed(sync_engine):
    creds = SQLAlchemyCredentials(sync_engine)
    secrets = [TotpCredential(f"sealed-{i}", i % 2 == 0, 1_800_000_000.0 + i) for i in range(N)]
    calls: list[Callable[[], Any]] = []
    for i in range(N):
        calls.append(lambda i=i: creds.set_totp("u1", secrets[i]))
        calls.append(lambda: creds.add_phone("u1", PHONE))
        calls.append(lambda i=i: creds.set_preferred_factor("u1", ("sms", "totp")[i % 2]))
    results = race(calls)
    assert [r for r in results if r is not None] == []
    assert creds.get_totp("u1") in secrets
    assert creds.phones("u1") == [PHONE]
    assert creds.preferred_factor("u1") in {"sms", "totp"}


async def test_racing_factor_changes_all_succeed_async(database):
    engine = database.async_engine()
    await create_all_async(engine)
    creds = AsyncSQLAlchemyCredentials(engine)
    secrets = [TotpCredential(f"sealed-{i}", True, 1_800_000_000.0 + i) for i in range(N)]
    calls = []
    for i in range(N):
        calls.append(creds.set_totp("u1", secrets[i]))
        calls.append(creds.add_phone("u1", PHONE))
        calls.append(creds.set_preferred_factor("u1", ("sms", "totp")[i % 2]))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [r for r in results if r is not None] == []
    assert await creds.get_totp("u1") in secrets
    assert await creds.phones("u1") == [PHONE]
    await engine.dispose()


def test_a_race_never_becomes_an_error_the_user_sees(sync_engine):
    # Removing and setting up the app at once: whichever wins, no call fails.
    creds = SQLAlchemyCredentials(sync_engine)
    credential = TotpCredential("sealed", True, 1_800_000_000.0)
    calls: list[Callable[[], Any]] = []
    for _ in range(N):
        calls.append(lambda: creds.set_totp("u1", credential))
        calls.append(lambda: creds.remove_totp("u1"))
    results = race(calls)
    assert not [r for r in results if isinstance(r, (StorageUnavailable, Exception))]
    assert creds.get_totp("u1") in {None, credential}
