"""Send budgets and lockouts: every number of DESIGN.md's policy table, on an injected clock."""

from __future__ import annotations

import pytest

from otpgate import (
    ConfigurationError,
    InvalidCode,
    LockedOut,
    RateLimit,
    SendLimitReached,
    Settings,
)
from tests.conftest import KEY, PHONE


def phone(n: int) -> str:
    return f"+336123456{n:02d}"


def start(gate, subject="alice", number=PHONE, **kwargs):
    return gate.start_sms(subject, number, purpose="enroll", **kwargs)


def spend(gate, count, **kwargs):
    for _ in range(count):
        start(gate, **kwargs)


def sign_in(gate, subject="alice", number=PHONE, **kwargs):
    """A sign-in code to ``subject``'s verified ``number`` (verified here if it was not)."""
    if number not in gate.credentials.phones(subject):
        gate.credentials.add_phone(subject, number)
    return gate.start_sms(subject, purpose="login", **kwargs)


class TestSendBudgets:
    def test_five_per_phone_in_fifteen_minutes(self, gate, clock):
        for _ in range(5):
            sign_in(gate)
        with pytest.raises(SendLimitReached) as caught:
            sign_in(gate)
        assert caught.value.scope == "phone"
        assert caught.value.retry_after == 900
        clock.advance(899)
        with pytest.raises(SendLimitReached):
            sign_in(gate)
        clock.advance(1)
        sign_in(gate)

    def test_ten_per_phone_in_a_day(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), subject_budget=RateLimit(100, 86400)))
        for _ in range(2):
            for _ in range(5):
                sign_in(gate)
            clock.advance(900)
        with pytest.raises(SendLimitReached) as caught:
            sign_in(gate)
        assert caught.value.scope == "phone"
        assert caught.value.retry_after == 86400 - 1800
        clock.advance(86400 - 1800)
        sign_in(gate)

    def test_five_codes_a_day_to_verify_a_number(self, gate, clock):
        spend(gate, 5)
        with pytest.raises(SendLimitReached) as caught:
            start(gate, subject="bob")
        assert caught.value.scope == "enrollment"
        assert caught.value.retry_after == 86400
        clock.advance(86400)
        start(gate, subject="bob")

    def test_the_enrollment_budget_allows_at_most_twenty_codes_a_day(self):
        for rate in ("21/24h", "1/h", "11/12h", "5/15m", "0/24h"):
            with pytest.raises(ConfigurationError) as caught:
                Settings(secret_keys=(KEY,), enrollment_budget=rate)
            assert caught.value.setting == "enrollment_budget"
        for rate, expected in (("20/24h", RateLimit(20, 86400)), ("2/3h", RateLimit(2, 10800))):
            assert Settings(secret_keys=(KEY,), enrollment_budget=rate).enrollment_budget == (
                expected
            )
        flat = Settings.from_mapping({"OTPGATE_ENROLLMENT_BUDGET": "3/7d"})
        assert flat.enrollment_budget == RateLimit(3, 7 * 86400)
        assert Settings().enrollment_budget == RateLimit(5, 86400)

    def test_ten_per_subject_in_a_day(self, gate, clock):
        for n in range(10):
            start(gate, number=phone(n))
        with pytest.raises(SendLimitReached) as caught:
            start(gate, number=phone(10))
        assert caught.value.scope == "subject"
        start(gate, subject="bob", number=phone(10))

    def test_twenty_per_client_ip_in_an_hour(self, make_gate, clock):
        # (21 codes nobody enters to a country never sent to: the pumping guard would
        # pause that country, see test_pumping.py)
        gate = make_gate(Settings(secret_keys=(KEY,), pumping_guard=False))
        for n in range(20):
            start(gate, subject=f"user{n}", number=phone(n), client_ip="203.0.113.9")
        with pytest.raises(SendLimitReached) as caught:
            start(gate, subject="late", number=phone(20), client_ip="203.0.113.9")
        assert caught.value.scope == "ip"
        assert caught.value.retry_after == 3600
        start(gate, subject="late", number=phone(20), client_ip="198.51.100.1")
        clock.advance(3600)
        start(gate, subject="later", number=phone(21), client_ip="203.0.113.9")

    def test_daily_cap_per_country_calling_code(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), country_caps={"33": 3}))
        for n in range(3):
            start(gate, subject=f"user{n}", number=phone(n))
        with pytest.raises(SendLimitReached) as caught:
            start(gate, subject="user9", number=phone(9))
        assert caught.value.scope == "country"
        start(gate, subject="user9", number="+4915112345678")  # Germany has no cap
        clock.advance(86400)
        start(gate, subject="user9", number=phone(9))

    def test_a_country_capped_at_zero_gets_nothing(self, make_gate, outbox):
        gate = make_gate(Settings(secret_keys=(KEY,), country_caps={"33": 0}))
        for send in (start, sign_in):
            with pytest.raises(SendLimitReached) as caught:
                send(gate)
            assert caught.value.scope == "country"
        assert outbox.messages == []
        start(gate, number="+4915112345678")

    def test_a_denied_send_spends_no_budget(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), subject_budget=RateLimit(3, 3600)))
        spend(gate, 3)
        for _ in range(10):
            with pytest.raises(SendLimitReached):
                start(gate)
        # the number's enrollment budget (5) saw only the three sends that happened
        spend(gate, 2, subject="bob")
        with pytest.raises(SendLimitReached) as caught:
            start(gate, subject="carol")
        assert caught.value.scope == "enrollment"

    def test_resends_spend_budget_too(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), resend_cooldown=0))
        challenge = start(gate)
        for _ in range(4):
            gate.resend(challenge.id)
        with pytest.raises(SendLimitReached) as caught:
            start(gate, subject="bob")
        assert caught.value.scope == "enrollment"
        challenge = sign_in(gate, subject="carol")
        for _ in range(4):
            gate.resend(challenge.id)
        with pytest.raises(SendLimitReached) as caught:
            sign_in(gate, subject="carol")
        assert caught.value.scope == "phone"


def fail_totp(gate, times, subject="alice"):
    for _ in range(times):
        with pytest.raises((InvalidCode, LockedOut)):
            gate.check_recovery(subject, "AAAA-AAAA-AAAA")


class TestLockout:
    def test_growing_waits_after_five_failures(self, gate, clock):
        gate.recovery.generate("alice")
        fail_totp(gate, 4)
        with pytest.raises(LockedOut) as caught:
            gate.check_recovery("alice", "AAAA-AAAA-AAAA")
        assert caught.value.retry_after == 60
        for wait in (60, 120, 240, 480, 900, 900):
            clock.advance(wait - 1)
            with pytest.raises(LockedOut):
                gate.check_recovery("alice", "AAAA-AAAA-AAAA")
            clock.advance(1)
            with pytest.raises(LockedOut) as caught:
                gate.check_recovery("alice", "AAAA-AAAA-AAAA")
            assert caught.value.retry_after == min(wait * 2, 900)

    def test_a_locked_subject_cannot_start_or_check(self, gate, outbox, clock):
        challenge = start(gate)
        code = outbox.last_code_for(PHONE)
        gate.recovery.generate("alice")
        fail_totp(gate, 5)
        with pytest.raises(LockedOut):
            gate.check(challenge.id, code)
        with pytest.raises(LockedOut):
            start(gate)
        clock.advance(60)
        gate.check(challenge.id, code)

    def test_a_success_resets_the_count(self, gate, outbox):
        codes = gate.recovery.generate("alice")
        fail_totp(gate, 4)
        gate.check_recovery("alice", codes[0])
        fail_totp(gate, 4)
        gate.check_recovery("alice", codes[1])

    def test_failures_are_forgotten_after_a_quiet_day(self, gate, clock):
        codes = gate.recovery.generate("alice")
        fail_totp(gate, 4)
        clock.advance(86400)
        fail_totp(gate, 4)
        gate.check_recovery("alice", codes[0])

    def test_hard_lock_after_fifty_failures_until_unlocked(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), lockout_max=60))
        codes = gate.recovery.generate("alice")
        for _ in range(49):
            fail_totp(gate, 1)
            clock.advance(60)
        with pytest.raises(LockedOut) as caught:
            gate.check_recovery("alice", "AAAA-AAAA-AAAA")
        assert caught.value.hard and caught.value.retry_after is None
        clock.advance(30 * 86400)
        with pytest.raises(LockedOut) as caught:
            gate.check_recovery("alice", codes[0])
        assert caught.value.hard
        gate.unlock("alice")
        gate.check_recovery("alice", codes[0])

    def test_failures_count_across_factors(self, gate, outbox, clock):
        gate.recovery.generate("alice")
        challenge = start(gate)
        fail_totp(gate, 2)
        for _ in range(2):
            with pytest.raises(InvalidCode):
                gate.check(
                    challenge.id, "000000" if outbox.last_code_for(PHONE) != "000000" else "111111"
                )
        with pytest.raises(LockedOut):
            gate.check_recovery("alice", "AAAA-AAAA-AAAA")

    def test_other_subjects_are_not_affected(self, gate):
        gate.recovery.generate("alice")
        codes = gate.recovery.generate("bob")
        fail_totp(gate, 5)
        gate.check_recovery("bob", codes[0])
