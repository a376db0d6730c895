"""create_all and create_all_async when several workers start at once on one new database.

Each worker checks which tables are missing, then creates them; another worker can create a
table between the two. ``uvicorn --workers 2`` (or ``gunicorn -w 2``) on a fresh SQLite file
did exactly that and one worker failed its start-up with "table ... already exists", taking the
whole server down. The race is made deterministic here: a DDL hook creates the table through
another engine right after the check said it was missing. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.event import listen
from sqlalchemy.inspection import inspect
from sqlalchemy.schema import MetaData

from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all, create_all_async, define_tables
from otpgate.sqlalchemy.tables import Tables
from tests.conftest import PHONE

from .conftest import Database

NAMES = {
    "otpgate_phone",
    "otpgate_totp",
    "otpgate_recovery_code",
    "otpgate_preference",
    "otpgate_device",
    "otpgate_email",
    "otpgate_passkey",
}


def another_worker_wins_the_race(tables: Tables, database: Database) -> Any:
    """Make another engine create the phone table once, just before this one does."""
    other = database.engine()
    won: list[str] = []

    def create_first(table: Any, connection: Any, **kw: Any) -> None:
        if not won:
            won.append(table.name)
            table.create(other)

    listen(tables.phones, "before_create", create_first)
    return other, won


def test_create_all_survives_another_worker_creating_a_table_first(database):
    tables = define_tables(MetaData())
    other, won = another_worker_wins_the_race(tables, database)
    engine = database.engine()
    create_all(engine, tables=tables)
    assert won == ["otpgate_phone"]  # the race did happen
    assert set(inspect(engine).get_table_names()) == NAMES
    SQLAlchemyCredentials(engine, tables=tables).add_phone("u1", PHONE)
    assert SQLAlchemyCredentials(engine, tables=tables).phones("u1") == [PHONE]
    engine.dispose()
    other.dispose()


def test_create_all_async_survives_another_worker_creating_a_table_first(database, loop):
    tables = define_tables(MetaData())
    other, won = another_worker_wins_the_race(tables, database)
    engine = database.async_engine()
    loop.run_until_complete(create_all_async(engine, tables=tables))
    loop.run_until_complete(engine.dispose())
    assert won == ["otpgate_phone"]
    assert set(inspect(other).get_table_names()) == NAMES
    other.dispose()
