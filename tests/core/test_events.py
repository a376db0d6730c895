"""Events tell an audit log what happened, and never hold a code, a secret or a number."""

from __future__ import annotations

import pyotp
import pytest

from otpgate import EventName, InvalidCode, LockedOut
from tests.conftest import PHONE


def test_sms_lifecycle_events(gate, outbox):
    events = []
    gate.subscribe(events.append)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    with pytest.raises(InvalidCode):
        gate.check(challenge.id, "000000" if code != "000000" else "111111")
    gate.check(challenge.id, code)
    names = [event.name for event in events]
    assert names == [
        EventName.CHALLENGE_STARTED,
        EventName.CHALLENGE_SENT,
        EventName.VERIFICATION_FAILED,
        EventName.CHALLENGE_APPROVED,
        EventName.FACTOR_ADDED,
    ]
    assert all(event.subject == "alice" for event in events)
    assert events[0].masked_phone == "+33 ••• ••• 5678"
    for event in events:
        assert code not in repr(event) and PHONE not in repr(event)


def test_lock_and_factor_events(gate, clock):
    events = []
    unsubscribe = gate.subscribe(events.append)
    enrollment = gate.totp.enroll("alice")
    gate.totp.confirm("alice", pyotp.TOTP(enrollment.secret).at(clock()))
    for _ in range(5):
        with pytest.raises((InvalidCode, LockedOut)):
            gate.check_recovery("alice", "AAAA-AAAA-AAAA")
    gate.totp.remove("alice")
    names = [event.name for event in events]
    assert names.count(EventName.SUBJECT_LOCKED) == 1
    assert EventName.FACTOR_ADDED in names and EventName.FACTOR_REMOVED in names
    assert all(enrollment.secret not in repr(event) for event in events)
    unsubscribe()
    gate.recovery.generate("alice")
    assert len(events) == len(names)
