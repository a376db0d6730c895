"""Fixtures for the Django integration: settings module, a fake clock and an outbox wired
into the per-process verifiers, users with and without factors, and a logged-in client."""

from __future__ import annotations

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
