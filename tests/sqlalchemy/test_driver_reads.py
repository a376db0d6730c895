"""The sign-in's hot reads on the pool's driver connection (``driver_reads.py``), on SQLite
and PostgreSQL: the same answers as the ordinary path, one statement on a reused
connection, the ordinary path wherever something watches the engine, and outages that fail
closed without leaving a broken connection in the pool."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate import StorageUnavailable
from otpgate.core.credentials import TotpCredential
from otpgate.sqlalchemy import SQLAlchemyCredentials
from otpgate.sqlalchemy.driver_reads import usable
from sqlalchemy import event
from tests.conftest import OTHER_PHONE, PHONE


def _filled(engine: Any) -> SQLAlchemyCredentials:
    creds = SQLAlchemyCredentials(engine)
    creds.add_phone("u1", PHONE)
    creds.add_phone("u1", OTHER_PHONE)
    creds.set_totp("u1", TotpCredential("sealed-secret", True, 12.5))
    return creds


def test_the_reads_answer_as_the_ordinary_path(sync_engine):
    creds = _filled(sync_engine)
    assert usable(sync_engine)
    assert creds.phones("u1") == [PHONE, OTHER_PHONE]  # the preferred (first added) first
    assert creds.get_totp("u1") == TotpCredential("sealed-secret", True, 12.5)
    assert creds.phones("nobody") == [] and creds.get_totp("nobody") is None
    watched: list[str] = []
    event.listen(sync_engine, "before_cursor_execute", lambda *args: watched.append(args[2]))
    assert not usable(sync_engine)  # the ordinary path now: the same answers
    assert creds.phones("u1") == [PHONE, OTHER_PHONE]
    assert creds.get_totp("u1") == TotpCredential("sealed-secret", True, 12.5)
    assert len(watched) == 2  # a listener sees every statement


def test_a_read_runs_one_statement_on_a_pooled_connection(sync_engine):
    creds = _filled(sync_engine)
    checkouts: list[object] = []
    opened: list[object] = []
    event.listen(sync_engine, "checkout", lambda *args: checkouts.append(args[0]))
    event.listen(sync_engine, "connect", lambda *args: opened.append(args[0]))
    for _ in range(5):
        assert creds.get_totp("u1") is not None
        assert creds.phones("u1")
    assert len(checkouts) == 10 and not opened  # checked out of the pool, never opened anew


def test_an_engine_with_options_or_echo_takes_the_ordinary_path(sync_engine, database):
    assert not usable(sync_engine.execution_options(schema_translate_map={None: None}))
    echoing = database.engine(echo=True)
    try:
        assert not usable(echoing)
    finally:
        echoing.dispose()


def test_a_failing_read_is_storage_unavailable_and_drops_the_connection(database):
    engine = database.engine()  # no tables: the statement fails in the driver
    dropped: list[object] = []
    event.listen(engine, "invalidate", lambda *args: dropped.append(args[0]))
    try:
        creds = SQLAlchemyCredentials(engine)
        with pytest.raises(StorageUnavailable):
            creds.get_totp("u1")
        with pytest.raises(StorageUnavailable):
            creds.phones("u1")
        assert len(dropped) == 2  # never handed out again
    finally:
        engine.dispose()
