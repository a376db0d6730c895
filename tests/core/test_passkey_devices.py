"""Passkeys and remembered devices together: adding or removing a passkey changes the
subject's factors, so every remembered device is forgotten (as for any other factor)."""

from __future__ import annotations

from otpgate import EventName, Settings
from tests.conftest import KEY, PHONE
from tests.passkey_authenticator import SoftAuthenticator

from .test_devices import make  # noqa: F401

ORIGIN = "https://shop.example"
SETTINGS = Settings(
    secret_keys=(KEY,),
    remember_device=True,
    webauthn_rp_id="shop.example",
    webauthn_origins=(ORIGIN,),
)


def _revocations(events):
    return [e.detail for e in events if e.name == EventName.DEVICE_REVOKED]


def test_adding_then_removing_a_passkey_forgets_remembered_devices(make):  # noqa: F811
    gate, events = make(SETTINGS)
    gate.credentials.add_phone("alice", PHONE)
    token = gate.devices.remember("alice")
    setup = gate.setup("alice", "webauthn", name="Laptop")
    answer = SoftAuthenticator(ORIGIN).create(setup.challenge.browser_options)
    gate.verify("alice", "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    assert _revocations(events) == [{"reason": "factors_changed", "count": 1}]
    assert gate.devices.list("alice") == []
    assert not gate.devices.check(token, "alice")

    gate.devices.remember("alice")
    [key] = gate.passkeys.list("alice")
    assert gate.passkeys.remove("alice", key.credential_id)
    assert _revocations(events)[-1] == {"reason": "factors_changed", "count": 1}
    assert gate.devices.list("alice") == []


def test_a_passkey_not_removed_forgets_nothing(make):  # noqa: F811
    gate, events = make(SETTINGS)
    gate.credentials.add_phone("alice", PHONE)
    gate.devices.remember("alice")
    assert not gate.passkeys.remove("alice", "AAAA")
    assert _revocations(events) == []
    assert len(gate.devices.list("alice")) == 1
