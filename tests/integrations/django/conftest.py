"""Fixtures for the Django integration: settings module, a fake clock and an outbox wired
into the per-process verifiers, users with and without factors, and a logged-in client."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

pytest.importorskip("django")
pytest.importorskip("pytest_django")

from otpgate import MemoryStore, OutboxSender
from tests.conftest import FakeClock

SETTINGS = "tests.integrations.django.settings"
PASSWORD = "correct horse battery staple"
PHONE = "+33612345678"
OTHER_PHONE = "+4915112345678"


def pytest_configure(config: pytest.Config) -> None:
    """Point pytest-django at this folder's settings when nothing else chose any.

    pytest-django reads ``DJANGO_SETTINGS_MODULE`` before this conftest is imported, so set
    it here, run the set-up pytest-django would have run (Django, the DB blocker), and unset
    it again: the settings are loaded, and subprocesses of other tests must not inherit it.
    """
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    try:
        from django.conf import settings
        from pytest_django.plugin import _setup_django

        settings.DATABASES  # noqa: B018 - loads the settings module
        _setup_django(config)
    finally:
        del os.environ["DJANGO_SETTINGS_MODULE"]


def _uses_postgres(items: list[pytest.Item]) -> bool:
    for item in items:
        marker = item.get_closest_marker("django_db")
        databases = marker.kwargs.get("databases") if marker else None
        if databases == "__all__" or (databases and "postgres" in databases):
            return True
    return False


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request: pytest.FixtureRequest, django_db_modify_db_settings_parallel_suffix: None
) -> None:
    """Start the session's PostgreSQL server when a collected test uses the ``postgres``
    database, and point that alias at it (before pytest-django creates the test databases;
    the server outlives them: it stops at the end of the session)."""
    if not _uses_postgres(request.session.items):
        return
    from django.conf import settings

    cluster = request.getfixturevalue("postgres")
    settings.DATABASES["postgres"]["PORT"] = str(cluster.port)


#: Mark a test that takes ``orm_database``: it may use both databases.
BOTH_DATABASES = pytest.mark.django_db(databases=["default", "postgres"])


@pytest.fixture(params=["sqlite", "postgres"])
def orm_database(request: pytest.FixtureRequest) -> Any:
    """Run the test twice: on SQLite (the default database) and on PostgreSQL (every ORM
    query routed there, see ``routing.py``). The test needs ``BOTH_DATABASES`` (or a
    ``django_db`` mark naming both). Yields the alias."""
    from . import routing

    routing.ALIAS = None if request.param == "sqlite" else "postgres"
    yield routing.ALIAS or "default"
    routing.ALIAS = None
    # The async ORM ran queries in asgiref's worker thread: close that thread's connections,
    # or PostgreSQL refuses to drop the test database at the end ("being accessed").
    from asgiref.sync import sync_to_async
    from django.db import connections

    loop = asyncio.new_event_loop()  # no outer async_to_sync: runs in that same worker thread
    try:
        loop.run_until_complete(sync_to_async(connections.close_all)())
    finally:
        loop.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox() -> OutboxSender:
    return OutboxSender()


@pytest.fixture(autouse=True)
def otpgate_runtime(clock: FakeClock, outbox: OutboxSender) -> Any:
    """Fresh verifiers for each test, on a fake clock, sending to an outbox."""
    from otpgate.integrations.django import runtime

    runtime.configure(clock=clock, sender=outbox, store=MemoryStore(clock=clock))
    yield runtime
    runtime.configure()


@pytest.fixture
def gate(otpgate_runtime: Any) -> Any:
    return otpgate_runtime.get_verifier()


def make_user(username: str, **extra: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username, f"{username}@example.com", PASSWORD, **extra
    )


@pytest.fixture
def user(db: Any) -> Any:
    """A user without any second factor."""
    return make_user("nofactor")


@pytest.fixture
def sms_user(db: Any, gate: Any) -> Any:
    """A user with a verified phone."""
    person = make_user("alice", is_staff=True, is_superuser=True)
    gate.credentials.add_phone(str(person.pk), PHONE)
    return person


def last_code(outbox: OutboxSender, phone: str = PHONE) -> str:
    code = outbox.last_code_for(phone)
    assert code is not None, "no SMS was sent"
    return code


def sign_in(client: Any, username: str, next_url: str = "") -> Any:
    """The password step through ``OtpLoginView``."""
    data = {"username": username, "password": PASSWORD}
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def full_login(client: Any, outbox: OutboxSender, username: str = "alice") -> Any:
    """Password, then the SMS code: a session that passed the second factor (a user who
    prefers another factor asks for the SMS first: the second step sent none)."""
    sent = len(outbox.messages)
    sign_in(client, username)
    if len(outbox.messages) == sent:
        client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    data = {"action": "verify", "method": "sms", "code": last_code(outbox)}
    return client.post("/2fa/verify/", data)
