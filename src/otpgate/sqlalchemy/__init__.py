"""Credential storage in SQL databases with SQLAlchemy 2 (``pip install "otpgate[sqlalchemy]"``).

Shared by the Flask and FastAPI integrations; any SQLAlchemy URL works, SQLite by default::

    from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all
    engine = create_engine("sqlite:///otpgate.sqlite3")
    create_all(engine)
    gate = Verifier(settings, credentials=SQLAlchemyCredentials(engine))

The tables live in :data:`metadata`; pass your own ``MetaData`` to :func:`define_tables` to
keep them in your application's metadata (and its Alembic migrations) instead.
"""

from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'otpgate.sqlalchemy needs SQLAlchemy 2: pip install "otpgate[sqlalchemy]"'
    ) from error

from .aio import AsyncSQLAlchemyCredentials, create_all_async
from .sync import SQLAlchemyCredentials, create_all
from .tables import Tables, define_tables, metadata, tables

__all__ = [
    "AsyncSQLAlchemyCredentials",
    "SQLAlchemyCredentials",
    "Tables",
    "create_all",
    "create_all_async",
    "define_tables",
    "metadata",
    "tables",
]
