"""The databases the SQLAlchemy repository is tested on: a SQLite file, and a fresh database of
the session's PostgreSQL cluster (psycopg 3 for the sync engine, asyncpg for the async one).

``database`` is parametrised over both, so every test taking it (or ``sync_engine``) runs
twice. ``sync_engine`` has the tables created.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from otpgate.sqlalchemy import create_all

DATABASES = ["sqlite", "postgres"]


@dataclass(frozen=True)
class Database:
    """One empty database, reachable through both flavours of engine."""

    kind: str
    sync_url: str
    async_url: str

    def _args(self) -> dict[str, Any]:
        # SQLite: writers wait for the file lock (races) instead of failing at once.
        return {"connect_args": {"timeout": 30}} if self.kind == "sqlite" else {}

    def engine(self, **kwargs: Any) -> Engine:
        return create_engine(self.sync_url, **self._args(), **kwargs)

    def async_engine(self, **kwargs: Any) -> AsyncEngine:
        return create_async_engine(self.async_url, **self._args(), **kwargs)


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Database:
    if request.param == "sqlite":
        path = tmp_path / "otpgate.sqlite3"
        return Database("sqlite", f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}")
    cluster = request.getfixturevalue("postgres")
    name = cluster.create_database()
    return Database("postgres", cluster.url(name), cluster.url(name, "asyncpg"))


@pytest.fixture
def sync_engine(database: Database) -> Iterator[Engine]:
    engine = database.engine()
    create_all(engine)
    yield engine
    engine.dispose()
