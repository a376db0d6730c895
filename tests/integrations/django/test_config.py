"""The store and sender under the names every integration uses, the old name with a warning,
and system checks for the in-memory store outside DEBUG and tests and an unused database URL."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import override_settings

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.django import checks, conf, runtime

OUTBOX = OutboxSender()


def ids(found) -> list[str]:
    return [message.id for message in found]


@pytest.fixture
def outside_tests(monkeypatch):
    """As in production: Django's test environment (its mail outbox) is not set up."""
    monkeypatch.delattr(mail, "outbox")


@override_settings(DEBUG=False)
def test_the_in_memory_store_is_a_warning_outside_debug_and_tests(outside_tests):
    (warning,) = checks.check_wiring()
    assert warning.id == "otpgate.W003" and warning.obj == "OTPGATE_STORE"
    assert "one process" in warning.msg and "redis://" in warning.hint
    assert "SILENCED_SYSTEM_CHECKS" in warning.hint


def test_the_in_memory_store_is_fine_under_debug_in_tests_or_with_redis(outside_tests):
    with override_settings(DEBUG=True):
        assert checks.check_wiring() == []
    with override_settings(DEBUG=False, OTPGATE_STORE="redis://127.0.0.1:1/0"):
        assert checks.check_wiring() == []


def test_under_the_test_runner_the_in_memory_store_is_fine():
    with override_settings(DEBUG=False):
        assert checks.check_wiring() == []


@override_settings(OTPGATE_DATABASE_URL="postgresql://db/otpgate")
def test_a_database_url_is_named_as_unused():
    assert ids(checks.check_wiring()) == ["otpgate.W004"]
    assert checks.check_settings() == []  # not an unknown setting


@override_settings(OTPGATE_REDIS_URL="redis://cache:6379/2")
def test_the_old_redis_url_still_works_with_a_warning():
    del django_settings.OTPGATE_STORE  # only the old name (restored after the test)
    with pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL .* rename it OTPGATE_STORE"):
        assert conf.options().store == "redis://cache:6379/2"
    with pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL"):
        found = checks.check_wiring()
    assert ids(found) == ["otpgate.W005"]
    assert "OTPGATE_STORE" in found[0].msg and found[0].obj == "OTPGATE_REDIS_URL"


@override_settings(
    OTPGATE_SENDER="tests.integrations.django.test_config:OUTBOX",
    OTPGATE_STORE_OPTIONS='{"prefix": "site:"}',
)
def test_a_sender_by_dotted_path_and_store_options_as_json():
    runtime.configure(store=MemoryStore())
    try:
        assert runtime.get_verifier().sender is OUTBOX
        assert conf.options().store_options == {"prefix": "site:"}
    finally:
        runtime.configure()
