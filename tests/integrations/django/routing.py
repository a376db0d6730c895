"""A database router for the tests: ``ALIAS`` names the database every ORM query goes to
(None: the default, an in-memory SQLite database). The ``orm_database`` fixture sets it to
``postgres`` to run a test on the session's PostgreSQL server; it is a module global, not a
context variable, so that threads started by a test use the same database."""

from __future__ import annotations

from typing import Any

ALIAS: str | None = None


class Switch:
    """Reads and writes go to ``ALIAS``; migrations run on every database."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return ALIAS
