"""One vocabulary for the store, the sender and the credentials database, read the same way
by every integration and by ``otpgate check``; old names keep working, with a warning."""

from __future__ import annotations

import pytest

from otpgate import ConfigurationError, ConsoleSender, OutboxSender
from otpgate.core import wiring
from otpgate.core.settings import INTEGRATION_KEYS, Settings
from tests.conftest import KEY


class Recorder:
    def send(self, to: str, text: str, *, reference: str = "") -> str:
        return "m1"


def make_recorder() -> Recorder:
    return Recorder()


RECORDER = Recorder()


def test_nothing_set_is_the_in_memory_store_and_the_integrations_defaults():
    parts = wiring.read({"OTPGATE_CODE_DIGITS": "8"})
    assert parts.store == "memory" and not parts.uses_redis
    assert parts.store_options == {} and parts.sender is None and parts.database_url is None


@pytest.mark.parametrize(
    "url",
    [
        "redis://cache:6379/2",
        "rediss://:pw@cache:6380/0",
        "unix:///run/redis.sock",
        "redis+sentinel://s1:26379,s2:26379/otp/0",
    ],
)
def test_a_redis_url_selects_redis(url):
    parts = wiring.read({"OTPGATE_STORE": url, "OTPGATE_STORE_OPTIONS": '{"cluster": true}'})
    assert parts.uses_redis and parts.store == url
    assert parts.store_options == {"cluster": True}
    assert parts.store_key == "OTPGATE_STORE"


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"OTPGATE_STORE": "memcached://x"}, "OTPGATE_STORE"),
        ({"OTPGATE_STORE": 6379}, "OTPGATE_STORE"),
        ({"OTPGATE_STORE_OPTIONS": "cluster=true"}, "OTPGATE_STORE_OPTIONS"),
        ({"OTPGATE_STORE_OPTIONS": "[1]"}, "OTPGATE_STORE_OPTIONS"),
        ({"OTPGATE_DATABASE_URL": 5}, "OTPGATE_DATABASE_URL"),
        ({"OTPGATE_SENDER": 42}, "OTPGATE_SENDER"),
    ],
)
def test_a_bad_value_names_its_key(values, key):
    with pytest.raises(ConfigurationError) as caught:
        wiring.read(values)
    assert caught.value.setting == key


def test_the_old_name_still_works_with_a_warning_naming_the_new_one():
    with pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL .* rename it OTPGATE_STORE"):
        parts = wiring.read({"OTPGATE_REDIS_URL": "redis://cache:6379/2"})
    assert parts.store == "redis://cache:6379/2"
    assert parts.store_key == "OTPGATE_REDIS_URL"  # messages name the key the user wrote
    with (
        pytest.raises(ConfigurationError) as caught,
        pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL"),
    ):
        wiring.read({"OTPGATE_REDIS_URL": "http://cache"})
    assert caught.value.setting == "OTPGATE_REDIS_URL"


def test_the_new_name_wins_over_the_old_one():
    both = {"OTPGATE_STORE": "redis://new:6379/0", "OTPGATE_REDIS_URL": "redis://old:6379/0"}
    with pytest.warns(DeprecationWarning, match="ignored: OTPGATE_STORE is set"):
        parts = wiring.read(both)
    assert parts.store == "redis://new:6379/0" and parts.store_key == "OTPGATE_STORE"


def test_none_of_these_names_is_a_policy_setting():
    keys = {key: "x" for key in wiring.KEYS}
    assert wiring.KEYS <= INTEGRATION_KEYS
    settings = Settings.from_mapping({**keys, "OTPGATE_SECRET_KEYS": KEY}, ignore=wiring.KEYS)
    assert settings.secret_keys == (KEY,)


@pytest.mark.parametrize(
    "value",
    [
        "tests.core.test_wiring.RECORDER",
        "tests.core.test_wiring:RECORDER",
        "tests.core.test_wiring.Recorder",
        "tests.core.test_wiring:make_recorder",
        RECORDER,
        Recorder,
    ],
)
def test_a_sender_by_path_class_factory_or_object(value):
    assert isinstance(wiring.build_sender(value), Recorder)


def test_the_named_development_senders():
    assert isinstance(wiring.build_sender("console"), ConsoleSender)
    assert isinstance(wiring.build_sender(None), ConsoleSender)
    assert isinstance(wiring.build_sender("outbox"), OutboxSender)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("nowhere.make", "cannot import 'nowhere.make'"),
        ("tests.core.test_wiring.nothing", "cannot import"),
        ("plain", "not a dotted path"),
        ("tests.core.test_wiring.KEY", "str has no send() method"),
    ],
)
def test_a_sender_that_cannot_be_built_names_the_key(value, problem):
    with pytest.raises(ConfigurationError, match="OTPGATE_SENDER") as caught:
        wiring.build_sender(value)
    assert problem in str(caught.value)


# -- email senders (OTPGATE_EMAIL_SENDER, OTPGATE_SMTP_*) ----------------------------------------


def test_no_email_sender_unless_one_is_named():
    parts = wiring.read({})
    assert parts.email_sender is None
    assert wiring.build_email_sender(parts.email_sender, parts.smtp) is None
    assert wiring.build_email_sender("") is None


def test_the_named_email_senders():
    from otpgate import ConsoleEmailSender, OutboxEmailSender
    from otpgate.gateways.smtp import AsyncSmtpSender, SmtpSender

    assert isinstance(wiring.build_email_sender("console"), ConsoleEmailSender)
    assert isinstance(wiring.build_email_sender("outbox"), OutboxEmailSender)
    values = {
        "OTPGATE_EMAIL_SENDER": "smtp",
        "OTPGATE_SMTP_HOST": "smtp.example.org",
        "OTPGATE_SMTP_FROM": "Acme <no-reply@acme.example>",
        "OTPGATE_SMTP_USER": "acme",
        "OTPGATE_SMTP_PASSWORD": "s3cret",
        "OTPGATE_SMTP_TLS": "",  # empty: the default (STARTTLS on 587)
    }
    parts = wiring.read(values)
    sender = wiring.build_email_sender(parts.email_sender, parts.smtp)
    assert isinstance(sender, SmtpSender)
    config = sender.config
    assert (config.host, config.port, config.tls, config.username) == (
        "smtp.example.org",
        587,
        "starttls",
        "acme",
    )
    assert "s3cret" not in repr(config)
    implicit = {**values, "OTPGATE_SMTP_TLS": "implicit"}
    built = wiring.build_email_sender("smtp", wiring.read(implicit).smtp, asynchronous=True)
    assert isinstance(built, AsyncSmtpSender) and built.config.port == 465


@pytest.mark.parametrize(
    ("smtp", "setting"),
    [
        ({}, "OTPGATE_EMAIL_SENDER"),  # no host, no From
        (
            {"OTPGATE_SMTP_HOST": "h", "OTPGATE_SMTP_FROM": "a@b.c", "OTPGATE_SMTP_TLS": "ssl"},
            "smtp tls",
        ),
        (
            {"OTPGATE_SMTP_HOST": "h", "OTPGATE_SMTP_FROM": "a@b.c", "OTPGATE_SMTP_PORT": "x"},
            "OTPGATE_SMTP_PORT",
        ),
        (
            {"OTPGATE_SMTP_HOST": "h", "OTPGATE_SMTP_FROM": "a@b.c", "OTPGATE_SMTP_USER": "u"},
            "smtp user",
        ),
    ],
)
def test_a_bad_smtp_configuration_names_its_setting(smtp, setting):
    with pytest.raises(ConfigurationError) as refused:
        wiring.build_email_sender("smtp", smtp)
    assert refused.value.setting == setting


def test_an_email_sender_by_path_and_a_wrong_one():
    from otpgate import OutboxEmailSender

    built = wiring.build_email_sender("otpgate.core.mailers:OutboxEmailSender")
    assert isinstance(built, OutboxEmailSender)
    for bad in ("otpgate.core.nowhere.Nothing", "otpgate.core.senders:OutboxSender"):
        with pytest.raises(ConfigurationError) as refused:
            wiring.build_email_sender(bad)
        assert refused.value.setting == "OTPGATE_EMAIL_SENDER"
    with pytest.raises(ConfigurationError):
        wiring.read({"OTPGATE_EMAIL_SENDER": 5})
