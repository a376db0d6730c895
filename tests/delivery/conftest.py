"""Fixtures of the delivery tests: real Kannel processes (once per session), a receiver for
delivery reports, and the browser of ``tests/browser.py``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from otpgate import Event, Settings
from otpgate.inbox import InboxSender, InboxServer
from tests.browser import browser, page  # noqa: F401
from tests.camara import camara  # noqa: F401
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


@pytest.fixture
def inbox(tmp_path: Path) -> InboxSender:
    return InboxSender(tmp_path / "inbox.sqlite3")


@pytest.fixture
def server(inbox: InboxSender) -> Iterator[InboxServer]:
    """``otpgate inbox`` over ``inbox``, on a free loopback port."""
    running = InboxServer(inbox, "127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join(5)
