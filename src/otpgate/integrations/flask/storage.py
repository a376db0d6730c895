"""What ``OtpGate.init_app`` opens from the wiring: the challenge store (memory or Redis)
and the default credentials (SQLAlchemy, a fresh pool in each forked worker)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask

from otpgate.core import wiring
from otpgate.core.credentials import Credentials, MemoryCredentials
from otpgate.core.errors import ConfigurationError
from otpgate.core.memory_store import MemoryStore
from otpgate.core.store import Store


def _store(parts: wiring.Wiring, clock: Callable[[], float]) -> Store:
    if not parts.uses_redis:
        return MemoryStore(clock=clock)
    try:
        from otpgate.redis import RedisStore
    except ImportError as error:
        needs = f'a Redis URL needs otpgate.redis: pip install "otpgate[redis]" ({error})'
        raise ConfigurationError(parts.store_key, needs) from error
    return RedisStore.from_url(parts.store, **parts.store_options)


def _default_credentials(app: Flask, parts: wiring.Wiring) -> Credentials:
    url = parts.database_url
    if url == wiring.MEMORY:
        return MemoryCredentials()
    from sqlalchemy.engine import create_engine

    from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all

    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "otpgate.sqlite3")
    # A pool (SQLAlchemy's default): a lookup reuses an open connection instead of opening
    # the database anew (issue 17). An app that is dropped (tests, app factories) closes
    # its connections with it, so it leaves no open database behind.
    engine = create_engine(url)
    weakref.finalize(app, engine.dispose)
    create_all(engine)
    _fresh_pool_after_fork(engine)
    return SQLAlchemyCredentials(engine)


def _fresh_pool_after_fork(engine: Any) -> None:
    """A worker forked from the process that built the engine (gunicorn ``--preload``)
    starts with an empty pool of its own: the parent's connections (one is open after
    ``create_all``) are left to the parent, never shared across processes."""
    if not hasattr(os, "register_at_fork"):
        return
    held = weakref.ref(engine)

    def in_child() -> None:
        found = held()
        if found is not None:
            found.dispose(close=False)

    os.register_at_fork(after_in_child=in_child)
