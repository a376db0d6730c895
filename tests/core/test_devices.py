"""Remembered devices: one behaviour suite over the sync and async verifier, each with the
in-memory credentials and otpgate's SQLAlchemy repository (SQLite file)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from otpgate import (
    AsyncDeviceRepository,
    AsyncVerifier,
    ConfigurationError,
    DeviceRepository,
    EventName,
    MemoryCredentials,
    SecondFactorState,
    Settings,
    TotpCredential,
    Verification,
    Verifier,
)
from otpgate.core.devices import (
    REMEMBERED,
    TOUCH_INTERVAL,
    approximate_place,
    device_label,
    parse_token,
)
from otpgate.sqlalchemy import (
    AsyncSQLAlchemyCredentials,
    SQLAlchemyCredentials,
    create_all,
    create_all_async,
)
from tests.conftest import KEY, OTHER_PHONE, PHONE, FakeClock, Sync

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DAY = 86400


@pytest.fixture(params=["sync-memory", "sync-sql", "async-memory", "async-sql"])
def make(request, tmp_path, clock: FakeClock, loop: asyncio.AbstractEventLoop) -> Any:
    """``make(settings=None)`` → (verifier through Sync, events list)."""
    flavour, kind = request.param.split("-")
    url = tmp_path / "otpgate.sqlite3"
    engines: list[Any] = []

    def build(settings: Settings | None = None) -> tuple[Sync, list[Any]]:
        settings = settings or Settings(secret_keys=(KEY,), remember_device=True)
        if kind == "memory":
            creds: Any = MemoryCredentials()
        elif flavour == "sync":
            engine = create_engine(f"sqlite:///{url}")
            create_all(engine)
            engines.append(engine)
            creds = SQLAlchemyCredentials(engine)
        else:
            aengine = create_async_engine(f"sqlite+aiosqlite:///{url}")
            loop.run_until_complete(create_all_async(aengine))
            engines.append(aengine)
            creds = AsyncSQLAlchemyCredentials(aengine)
        cls = Verifier if flavour == "sync" else AsyncVerifier
        verifier = cls(settings, credentials=creds, clock=clock)
        events: list[Any] = []
        verifier.subscribe(events.append)
        return Sync(verifier, loop), events

    yield build
    for engine in engines:
        result = engine.dispose()
        if asyncio.iscoroutine(result):
            loop.run_until_complete(result)


@pytest.fixture
def gate(make) -> Sync:
    gate, _ = make()
    gate.credentials.add_phone("alice", PHONE)
    return gate


def test_repositories_meet_the_protocol(tmp_path):
    assert isinstance(MemoryCredentials(), DeviceRepository)
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert isinstance(SQLAlchemyCredentials(engine), DeviceRepository)
    aengine = create_async_engine("sqlite+aiosqlite://")
    assert isinstance(AsyncSQLAlchemyCredentials(aengine), AsyncDeviceRepository)


def test_a_remembered_device_skips_the_sign_in_step_only(gate):
    token = gate.devices.remember("alice", user_agent=FIREFOX, client_ip="203.0.113.77")
    assert parse_token(token) is not None
    assert gate.devices.check(token, "alice") is True
    assert gate.devices.check(token, "alice", purpose="login") is True
    for purpose in ("action", "transaction", "enroll", "step_up"):
        assert gate.devices.check(token, "alice", purpose=purpose) is False
    assert gate.devices.check(token, "bob") is False  # bound to its subject


@pytest.mark.parametrize(
    "bad",
    [None, "", 42, "x", "0123456789abcdef.short", "0" * 16 + "." + "A" * 43, "a" * 5000, ["x"]],
)
def test_a_bad_or_unknown_token_is_simply_not_remembered(gate, bad):
    gate.devices.remember("alice")
    assert gate.devices.check(bad, "alice") is False


def test_a_forged_secret_for_a_real_device_is_refused(gate):
    token = gate.devices.remember("alice")
    ref = token.split(".")[0]
    forged = f"{ref}.{'B' * 43}"
    assert gate.devices.check(forged, "alice") is False
    assert gate.devices.check(token, "alice") is True  # the real one still works


def test_a_device_is_void_after_the_configured_days(make, clock):
    gate, _ = make(Settings(secret_keys=(KEY,), remember_device=True, remember_device_days=3))
    gate.credentials.add_phone("alice", PHONE)
    token = gate.devices.remember("alice")
    clock.advance(3 * DAY - 1)
    assert gate.devices.check(token, "alice") is True
    clock.advance(1)
    assert gate.devices.check(token, "alice") is False
    assert gate.devices.list("alice") == []


@pytest.mark.parametrize(
    "change",
    [
        lambda g: g.recovery.generate("alice"),
        lambda g: g.remove_phone("alice", PHONE),
        lambda g: g.recovery.remove("alice") or g.recovery.generate("alice"),
        # changed outside otpgate's API (an admin tool): the factors fingerprint differs
        lambda g: g.credentials.add_phone("alice", OTHER_PHONE),
        lambda g: g.credentials.set_totp("alice", TotpCredential("sealed", True, 5.0)),
    ],
    ids=["recovery-generated", "phone-removed", "recovery-replaced", "phone-db", "totp-db"],
)
def test_any_factor_change_voids_every_device(gate, change):
    first = gate.devices.remember("alice")
    second = gate.devices.remember("alice")
    change(gate)
    assert gate.devices.check(first, "alice") is False
    assert gate.devices.check(second, "alice") is False


def test_a_phone_added_and_removed_again_still_voids(gate):
    token = gate.devices.remember("alice")
    gate.credentials.add_phone("alice", OTHER_PHONE)
    gate.remove_phone("alice", OTHER_PHONE)  # fingerprint back as before, device gone anyway
    assert gate.devices.check(token, "alice") is False


def test_a_changed_credential_stamp_voids_the_device(gate):
    token = gate.devices.remember("alice", stamp="password-v1")
    assert gate.devices.check(token, "alice", stamp="password-v1") is True
    assert gate.devices.check(token, "alice", stamp="password-v2") is False
    assert gate.devices.check(token, "alice", stamp="password-v1") is False  # deleted


def test_devices_are_listed_and_revoked_one_by_one_or_all(gate, clock):
    one = gate.devices.remember("alice", user_agent=FIREFOX, client_ip="203.0.113.77")
    clock.advance(10)
    two = gate.devices.remember("alice", user_agent="curl/8.0", client_ip="2001:db8:1:2::9")
    gate.credentials.add_phone("bob", PHONE)
    bobs = gate.devices.remember("bob")
    listed = gate.devices.list("alice")
    assert [d.label for d in listed] == ["", "Firefox on Linux"]  # most recent first
    assert [d.place for d in listed] == ["2001:db8:1::/48", "203.0.113.0/24"]
    assert listed[1].created_at == listed[1].last_seen == clock.now - 10
    assert listed[1].expires_at == clock.now - 10 + 30 * DAY
    shown = repr(listed)
    assert one.split(".")[1] not in shown and "203.0.113.77" not in shown
    assert gate.devices.revoke("alice", listed[1].ref) is True
    assert gate.devices.revoke("alice", listed[1].ref) is False
    assert gate.devices.revoke("bob", listed[0].ref) is False  # not bob's
    assert gate.devices.revoke("alice", "../../etc") is False
    assert gate.devices.check(one, "alice") is False
    assert gate.devices.check(two, "alice") is True
    assert gate.devices.revoke_all("alice") == 1
    assert gate.devices.check(two, "alice") is False
    assert gate.devices.list("alice") == []
    assert gate.devices.check(bobs, "bob") is True  # other subjects untouched


def test_last_seen_is_written_at_most_once_per_interval(gate, clock):
    token = gate.devices.remember("alice")
    created = clock.now
    clock.advance(TOUCH_INTERVAL - 1)
    assert gate.devices.check(token, "alice") is True
    assert gate.devices.list("alice")[0].last_seen == created
    clock.advance(1)
    assert gate.devices.check(token, "alice") is True
    assert gate.devices.list("alice")[0].last_seen == clock.now


def test_only_digests_are_stored(gate):
    token = gate.devices.remember("alice", stamp="hash-of-password", client_ip="198.51.100.7")
    ref, secret = token.split(".")
    record = gate.credentials.get_device(ref)
    assert record is not None and record.subject == "alice"
    stored = repr(record)
    assert secret not in stored and "hash-of-password" not in stored
    assert "198.51.100.7" not in stored and record.place == "198.51.100.0/24"


def test_events_say_what_happened_without_the_token(make):
    gate, events = make()
    gate.credentials.add_phone("alice", PHONE)
    token = gate.devices.remember("alice", user_agent=FIREFOX)
    gate.devices.check(token, "alice")
    gate.devices.revoke_all("alice")
    names = [e.name for e in events]
    assert names == [
        EventName.DEVICE_REMEMBERED,
        EventName.DEVICE_USED,
        EventName.DEVICE_REVOKED,
    ]
    assert events[2].detail == {"reason": "revoked", "count": 1}
    ref, secret = token.split(".")
    for event in events:
        assert ref not in repr(event) and secret not in repr(event)


def test_a_factor_change_event_says_why(make):
    gate, events = make()
    gate.credentials.add_phone("alice", PHONE)
    gate.devices.remember("alice")
    gate.recovery.generate("alice")
    revoked = [e for e in events if e.name == EventName.DEVICE_REVOKED]
    assert [e.detail for e in revoked] == [{"reason": "factors_changed", "count": 1}]


def test_off_by_default(make):
    gate, _ = make(Settings(secret_keys=(KEY,)))
    gate.credentials.add_phone("alice", PHONE)
    assert gate.devices.enabled is False
    with pytest.raises(ConfigurationError):
        gate.devices.remember("alice")


def test_a_device_remembered_while_on_is_not_honoured_once_off(make, tmp_path):
    gate, _ = make()
    gate.credentials.add_phone("alice", PHONE)
    token = gate.devices.remember("alice")
    gate._target.settings = Settings(secret_keys=(KEY,))
    assert gate.devices.check(token, "alice") is False


def test_key_rotation_keeps_remembered_devices(make):
    gate, _ = make(Settings(secret_keys=(KEY,), remember_device=True))
    gate.credentials.add_phone("alice", PHONE)
    token = gate.devices.remember("alice")
    new_key = "new-key-0123456789abcdef0123456789"
    rotated = Settings(secret_keys=(new_key, KEY), remember_device=True)
    target = gate._target
    target.settings = rotated
    from otpgate.core.crypto import Keyring

    target.keyring = Keyring(rotated.secret_keys)
    assert gate.devices.check(token, "alice") is True


def test_a_subject_keeps_a_bounded_number_of_devices(gate, clock):
    tokens = []
    for _ in range(22):
        tokens.append(gate.devices.remember("alice"))
        clock.advance(1)
    assert len(gate.devices.list("alice")) == 20
    assert gate.devices.check(tokens[0], "alice") is False  # least recently seen forgotten
    assert gate.devices.check(tokens[-1], "alice") is True


def test_a_remembered_sign_in_is_never_fresh_for_step_up():
    state = SecondFactorState()
    state.begin("alice", 1000.0)
    state.remembered("alice", 1000.0)
    assert state.has_passed("alice") and state.pending(1000.0, 600) == ""
    assert state.verified_factor == REMEMBERED
    assert not state.is_fresh("alice", 1000.0, 300)
    state.passed(Verification("alice", "action", "totp", 1100.0))
    assert state.is_fresh("alice", 1100.0, 300)


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (FIREFOX, "Firefox on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("python-httpx/0.27", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_device_labels(agent, label):
    assert device_label(agent) == label


@pytest.mark.parametrize(
    ("ip", "place"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an ip", ""),
        (None, ""),
        ("1" * 100, ""),
    ],
)
def test_places_mask_the_host(ip, place):
    assert approximate_place(ip) == place
