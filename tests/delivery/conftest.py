"""Fixtures of the delivery tests: real Kannel processes (once per session), a receiver for
delivery reports, and the browser of ``tests/browser.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otpgate import Event, Settings
from tests.browser import browser, page  # noqa: F401
from tests.conftest import KEY
from tests.delivery.kannel import Kannel
from tests.delivery.servers import Answer, FakeServer


@pytest.fixture(scope="session")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    """bearerbox + fakesmsc + smsbox, started once and stopped at the end."""
    running = Kannel(tmp_path_factory.mktemp("kannel"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def sms_settings() -> Settings:
    return Settings(secret_keys=(KEY,), brand="Acme", webotp_domain="acme.example")


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    """An HTTP server that answers 200 to everything; tests set ``.handler``."""
    with FakeServer(lambda request: Answer(200, b"ok")) as server:
        yield server
