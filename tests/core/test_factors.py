"""Authenticator apps and recovery codes, on every verifier flavour and store."""

from __future__ import annotations

import base64

import pyotp
import pytest

from otpgate import (
    CodeReplayed,
    EventName,
    FactorAlreadyEnrolled,
    FactorNotEnrolled,
    InvalidCode,
    MalformedInput,
    MemoryCredentials,
    Settings,
)
from tests.conftest import KEY


def enrolled(gate, clock, subject="alice"):
    enrollment = gate.totp.enroll(subject)
    totp = pyotp.TOTP(enrollment.secret)
    gate.totp.confirm(subject, totp.at(clock()))
    clock.advance(60)  # past the confirmation code's step and the step after it
    return totp


class TestTotp:
    def test_enrollment_gives_a_secret_uri_and_qr(self, gate):
        enrollment = gate.totp.enroll("alice", "alice@example.com")
        assert len(base64.b32decode(enrollment.secret)) >= 20
        parsed = pyotp.parse_uri(enrollment.uri)
        assert parsed.secret == enrollment.secret
        assert parsed.issuer == "otpgate"
        assert enrollment.qr_svg.lstrip().startswith("<svg")
        assert enrollment.secret not in repr(enrollment)

    def test_the_secret_is_stored_sealed(self, gate):
        enrollment = gate.totp.enroll("alice")
        stored = gate.credentials.get_totp("alice")
        assert enrollment.secret not in stored.sealed_secret
        assert not stored.confirmed

    def test_confirmation_activates_it(self, gate, clock):
        enrollment = gate.totp.enroll("alice")
        with pytest.raises(FactorNotEnrolled):
            gate.check_totp("alice", pyotp.TOTP(enrollment.secret).at(clock()))
        assert not gate.totp.is_enrolled("alice")
        gate.totp.confirm("alice", pyotp.TOTP(enrollment.secret).at(clock()))
        assert gate.totp.is_enrolled("alice")

    def test_a_wrong_confirmation_code_does_not_activate(self, gate, clock):
        enrollment = gate.totp.enroll("alice")
        code = pyotp.TOTP(enrollment.secret).at(clock() + 300)
        with pytest.raises(InvalidCode):
            gate.totp.confirm("alice", code)
        assert not gate.totp.is_enrolled("alice")

    def test_codes_within_one_step_are_accepted(self, gate, clock):
        totp = enrolled(gate, clock)
        gate.check_totp("alice", totp.at(clock() - 30))
        clock.advance(30)
        gate.check_totp("alice", totp.at(clock() + 30))
        clock.advance(90)
        with pytest.raises(InvalidCode):
            gate.check_totp("alice", totp.at(clock() - 60))
        with pytest.raises(InvalidCode):
            gate.check_totp("alice", totp.at(clock() + 60))

    def test_each_step_is_accepted_once(self, gate, clock):
        totp = enrolled(gate, clock)
        events = []
        gate.subscribe(events.append)
        code = totp.at(clock())
        verification = gate.check_totp("alice", code)
        assert verification.factor == "totp"
        with pytest.raises(CodeReplayed):
            gate.check_totp("alice", code)
        clock.advance(10)
        with pytest.raises(CodeReplayed):
            gate.check_totp("alice", code)
        assert EventName.REPLAY_DETECTED in [event.name for event in events]
        assert all(code not in repr(event) for event in events)

    def test_an_older_step_is_refused_after_a_newer_one(self, gate, clock):
        totp = enrolled(gate, clock)
        gate.check_totp("alice", totp.at(clock() + 30))
        with pytest.raises(CodeReplayed):
            gate.check_totp("alice", totp.at(clock()))

    def test_the_confirmation_code_cannot_be_replayed_to_log_in(self, gate, clock):
        enrollment = gate.totp.enroll("alice")
        code = pyotp.TOTP(enrollment.secret).at(clock())
        gate.totp.confirm("alice", code)
        with pytest.raises(CodeReplayed):
            gate.check_totp("alice", code)

    def test_replacing_an_active_app_needs_consent(self, gate, clock):
        enrolled(gate, clock)
        with pytest.raises(FactorAlreadyEnrolled):
            gate.totp.enroll("alice")
        gate.totp.enroll("alice", replace=True)
        assert gate.totp.remove("alice") is True
        assert gate.totp.remove("alice") is False

    def test_a_new_key_reseals_the_secret_on_next_use(self, make_gate, clock):
        credentials = MemoryCredentials()
        old = make_gate(Settings(secret_keys=(KEY,)), credentials=credentials)
        totp = enrolled(old, clock)
        new_key = "a-brand-new-key-0123456789"
        new = make_gate(Settings(secret_keys=(new_key, KEY)), credentials=credentials)
        before = credentials.get_totp("alice").sealed_secret
        new.check_totp("alice", totp.at(clock()))
        after = credentials.get_totp("alice").sealed_secret
        assert after != before
        clock.advance(30)
        only_new = make_gate(Settings(secret_keys=(new_key,)), credentials=credentials)
        only_new.check_totp("alice", totp.at(clock()))

    def test_subjects_do_not_share_replay_markers(self, gate, clock):
        alice = enrolled(gate, clock, "alice")
        bob = enrolled(gate, clock, "bob")
        gate.check_totp("alice", alice.at(clock()))
        gate.check_totp("bob", bob.at(clock()))


class TestRecoveryCodes:
    def test_ten_codes_shown_once_and_stored_hashed(self, gate):
        codes = gate.recovery.generate("alice")
        assert len(codes) == len(set(codes)) == 10
        assert all(len(code.replace("-", "")) * 5 >= 50 for code in codes)
        assert gate.recovery.remaining("alice") == 10

    def test_each_code_works_once(self, gate):
        codes = gate.recovery.generate("alice")
        verification = gate.check_recovery("alice", codes[3])
        assert verification.factor == "recovery"
        with pytest.raises(InvalidCode):
            gate.check_recovery("alice", codes[3])
        assert gate.recovery.remaining("alice") == 9

    def test_typing_is_forgiving_but_exact(self, gate):
        codes = gate.recovery.generate("alice")
        gate.check_recovery("alice", "  " + codes[0].lower() + " ")
        gate.check_recovery("alice", codes[1].replace("-", ""))
        with pytest.raises(MalformedInput):
            gate.check_recovery("alice", codes[2] + "0")

    def test_regenerating_voids_the_old_set(self, gate):
        old = gate.recovery.generate("alice")
        new = gate.recovery.generate("alice")
        with pytest.raises(InvalidCode):
            gate.check_recovery("alice", old[0])
        gate.check_recovery("alice", new[0])

    def test_codes_belong_to_their_subject(self, gate):
        codes = gate.recovery.generate("alice")
        gate.recovery.generate("bob")
        with pytest.raises(InvalidCode):
            gate.check_recovery("bob", codes[0])
        gate.check_recovery("alice", codes[0])
