"""The one decision of what a session lacks (guard_error, manage_error), shared by the Django
and Flask integrations, and the factor counts it rests on."""

from __future__ import annotations

import pytest

from otpgate import SecondFactorState, Verification
from otpgate.core.credentials import Factors
from otpgate.core.errors import (
    EnrollmentRequired,
    FreshOtpRequired,
    LoginRequired,
    OtpRequired,
)
from otpgate.core.web import guard_error, manage_error

NOW = 10_000.0


def passed(subject: str = "alice", at: float = NOW - 100) -> SecondFactorState:
    state = SecondFactorState()
    state.passed(Verification(subject, "login", "sms", at))
    return state


def kind(error: object) -> type | None:
    return None if error is None else type(error)


def never() -> bool:
    raise AssertionError("the factor lookup is not needed for a session that passed")


class TestHasPassed:
    def test_only_the_subject_that_passed(self):
        state = passed()
        assert state.has_passed("alice")
        assert not state.has_passed("bob")
        assert not state.has_passed("")
        assert not SecondFactorState().has_passed("alice")

    def test_freshness_needs_a_pass_of_the_same_subject(self):
        state = passed(at=NOW - 100)
        assert state.is_fresh("alice", NOW, 100) and not state.is_fresh("alice", NOW, 99)
        assert not state.is_fresh("bob", NOW, 300)


class TestGuard:
    @pytest.mark.parametrize(
        ("state", "subject", "max_age", "has_factor", "expected"),
        [
            (SecondFactorState(), "", None, True, LoginRequired),
            (SecondFactorState(), "", 300, True, LoginRequired),
            (SecondFactorState(), "alice", None, True, OtpRequired),
            (SecondFactorState(), "alice", 300, True, FreshOtpRequired),
            (SecondFactorState(), "alice", None, False, EnrollmentRequired),
            (SecondFactorState(), "alice", 300, False, EnrollmentRequired),
            (passed(at=NOW - 400), "alice", 300, True, FreshOtpRequired),
            (passed(at=NOW - 400), "alice", 300, False, EnrollmentRequired),
            (passed("bob"), "alice", None, True, OtpRequired),
        ],
    )
    def test_what_is_missing(self, state, subject, max_age, has_factor, expected):
        error = guard_error(state, subject, NOW, max_age=max_age, has_factor=lambda: has_factor)
        assert kind(error) is expected

    def test_step_up_names_its_max_age(self):
        error = guard_error(passed(at=1.0), "alice", NOW, max_age=60, has_factor=lambda: True)
        assert isinstance(error, FreshOtpRequired) and error.max_age == 60
        error = manage_error(
            passed(at=1.0), "alice", NOW, operation="change", step_up_max_age=60, has_factor=True
        )
        assert isinstance(error, FreshOtpRequired) and error.max_age == 60

    @pytest.mark.parametrize("max_age", [None, 300])
    def test_a_session_that_passed_gets_in_without_a_factor_lookup(self, max_age):
        assert guard_error(passed(), "alice", NOW, max_age=max_age, has_factor=never) is None

    def test_any_pass_will_do_without_max_age(self):
        old = passed(at=1.0)
        assert guard_error(old, "alice", NOW, max_age=None, has_factor=never) is None


class TestManage:
    @pytest.mark.parametrize(
        ("state", "subject", "operation", "has_factor", "expected"),
        [
            (SecondFactorState(), "", "view", True, LoginRequired),
            (SecondFactorState(), "", "change", False, LoginRequired),
            (SecondFactorState(), "alice", "view", False, None),  # first set-up
            (SecondFactorState(), "alice", "change", False, None),
            (SecondFactorState(), "alice", "view", True, OtpRequired),
            (SecondFactorState(), "alice", "change", True, OtpRequired),  # not passed at all
            (passed(at=NOW - 400), "alice", "view", True, None),
            (passed(at=NOW - 400), "alice", "change", True, FreshOtpRequired),
            (passed(at=NOW - 100), "alice", "change", True, None),
            (passed("bob"), "alice", "view", True, OtpRequired),
            (passed("bob", at=NOW), "alice", "change", True, OtpRequired),
        ],
    )
    def test_what_is_missing(self, state, subject, operation, has_factor, expected):
        error = manage_error(
            state,
            subject,
            NOW,
            operation=operation,
            step_up_max_age=300,
            has_factor=has_factor,
        )
        assert kind(error) is expected


@pytest.mark.parametrize(
    ("phones", "totp", "recovery", "primary", "any_"),
    [
        ((), False, 0, 0, False),
        ((), False, 3, 0, True),
        (("+33 ••• ••• 5678",), False, 0, 1, True),
        (("+33 ••• ••• 5678", "+49 ••• ••• ••• 5678"), True, 10, 3, True),
        ((), True, 0, 1, True),
    ],
)
def test_primary_factors_are_phones_and_the_app(phones, totp, recovery, primary, any_):
    factors = Factors(phones, totp, recovery, fingerprint="")
    assert factors.primary_count == primary and factors.any is any_
