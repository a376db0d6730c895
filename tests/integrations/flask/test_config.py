"""The store, sender and credentials database come from ``app.config`` under the names every
integration uses; the in-memory store is announced outside debug and testing."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from otpgate import MemoryCredentials, MemoryStore, OutboxSender
from otpgate.integrations.flask import CallbackUsers, OtpGate, gate_state
from tests.conftest import KEY, PHONE
from tests.redis.fixtures import new_prefix

OUTBOX = OutboxSender()
NO_USERS = CallbackUsers(lambda: None, lambda s, r: None, lambda: None)


def app_with(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY, TESTING=True, **config)
    OtpGate(app, users=NO_USERS)
    return app


@pytest.mark.redis
def test_store_sender_and_database_from_app_config(redis_server):
    from otpgate.redis import RedisStore

    app = app_with(
        OTPGATE_STORE=redis_server.url,
        OTPGATE_STORE_OPTIONS={"prefix": new_prefix()},
        OTPGATE_SENDER="tests.integrations.flask.test_config:OUTBOX",
        OTPGATE_DATABASE_URL="memory",
    )
    with app.app_context():
        verifier = gate_state().verifier
        assert isinstance(verifier.store, RedisStore)
        assert isinstance(verifier.credentials, MemoryCredentials)
        verifier.credentials.add_phone("alice", PHONE)
        challenge = verifier.start_sms("alice")
        code = OUTBOX.last_code_for(PHONE)
        assert code is not None
        assert verifier.check(challenge.id, code, subject="alice").subject == "alice"
        verifier.store.close()


def test_arguments_win_over_app_config():
    store, sender = MemoryStore(), OutboxSender()
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY, TESTING=True)
    app.config.update(OTPGATE_STORE="redis://127.0.0.1:1/0", OTPGATE_SENDER="nowhere.make")
    OtpGate(app, store=store, sender=sender, credentials=MemoryCredentials(), users=NO_USERS)
    with app.app_context():
        assert gate_state().verifier.store is store and gate_state().verifier.sender is sender


def test_the_old_redis_url_still_works_with_a_warning():
    from otpgate.redis import RedisStore

    with pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL .* rename it OTPGATE_STORE"):
        app = app_with(OTPGATE_REDIS_URL="redis://127.0.0.1:1/0", OTPGATE_DATABASE_URL="memory")
    with app.app_context():
        store = gate_state().verifier.store
        assert isinstance(store, RedisStore)  # not connected until used
        store.close()


@pytest.mark.parametrize(
    ("key", "value"), [("OTPGATE_STORE", "memcached://x"), ("OTPGATE_SENDER", "nowhere.make")]
)
def test_a_bad_value_fails_at_start_up_naming_its_key(key, value):
    from otpgate import ConfigurationError

    with pytest.raises(ConfigurationError, match=key):
        app_with(**{key: value, "OTPGATE_DATABASE_URL": "memory"})


@pytest.mark.parametrize(
    ("mode", "warned"), [({}, True), ({"TESTING": True}, False), ({"DEBUG": True}, False)]
)
def test_the_in_memory_store_is_announced_outside_debug_and_testing(caplog, mode, warned):
    caplog.set_level(logging.WARNING, logger="otpgate")
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY, OTPGATE_DATABASE_URL="memory")
    app.config.update(mode)
    OtpGate(app, users=NO_USERS)
    found = [r for r in caplog.records if "in-memory store" in r.getMessage()]
    assert len(found) == warned
    if warned:
        assert found[0].levelname == "WARNING" and "OTPGATE_STORE" in found[0].getMessage()
