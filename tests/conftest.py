"""Fixtures shared by every test: a fake clock, settings, an outbox, and verifiers.

``gate`` is one behaviour suite's view of a verifier: parametrised over the sync
``Verifier`` and the ``AsyncVerifier`` (driven through one event loop per test), and over
every store in ``STORE_KINDS``. Store kinds that need a server register themselves in
``tests/stores.py``. ``postgres`` is a PostgreSQL cluster for the session (``tests/postgres.py``).
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Iterator
from typing import Any

import pytest

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from tests.postgres import postgres, postgres_database  # noqa: F401
from tests.stores import (  # noqa: F401
    STORE_KINDS,
    StoreFactory,
    memory_store,
    redis_cluster,
    redis_cluster_store,
    redis_server,
    redis_store,
)

KEY = "test-key-0123456789abcdef0123456789"
PHONE = "+33612345678"  # a French mobile number
OTHER_PHONE = "+4915112345678"  # a German mobile number
START = 1_800_000_000.0


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sync:
    """Calls an object's methods and awaits whatever they return, on one event loop."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in {
            "totp",
            "recovery",
            "store",
            "credentials",
            "devices",
            "passkeys",
        } and not callable(value):
            return Sync(value, self._loop)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            return result

        return call


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_keys=(KEY,))


@pytest.fixture
def outbox() -> OutboxSender:
    return OutboxSender()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture(params=STORE_KINDS)
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.getfixturevalue(request.param)
    return factory


@pytest.fixture(params=["sync", "async"])
def make_gate(
    request: pytest.FixtureRequest,
    store_factory: StoreFactory,
    clock: FakeClock,
    outbox: OutboxSender,
    loop: asyncio.AbstractEventLoop,
) -> Any:
    """``make_gate(settings=None, **kwargs)`` → a verifier seen through :class:`Sync`."""
    flavour = request.param

    def make(settings: Settings | None = None, **kwargs: Any) -> Sync:
        settings = settings or Settings(secret_keys=(KEY,))
        kwargs.setdefault("sender", outbox)
        kwargs.setdefault("clock", clock)
        if "store" not in kwargs:
            kwargs["store"] = store_factory(flavour, clock, loop)
        cls = Verifier if flavour == "sync" else AsyncVerifier
        return Sync(cls(settings, **kwargs), loop)

    make.flavour = flavour  # type: ignore[attr-defined]
    return make


@pytest.fixture
def gate(make_gate: Any) -> Sync:
    return make_gate()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (tox sets TESTS_FORBID_SKIPS) a skipped test fails the run: every service and
    package a test needs is installed there, so a skip would hide a gap."""
    if not os.environ.get("TESTS_FORBID_SKIPS") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.write_line(
            f"{len(skipped)} skipped test(s): skips are not allowed in CI", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
