"""The generated configuration reference: complete, and its bounds are the enforced ones."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from otpgate import ConfigurationError, Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
import otpgate_settings

ROWS = {row.name: row for row in otpgate_settings.rows()}
RANGES, RULES = otpgate_settings.bounds()


def test_every_setting_has_a_row_with_a_meaning():
    assert list(ROWS) == [f.name for f in dataclasses.fields(Settings)]
    for row in ROWS.values():
        assert row.meaning, f"{row.name}: add a #: comment in settings.py or a MEANINGS entry"
        assert row.env == f"OTPGATE_{row.name.upper()}"
    assert not set(otpgate_settings.MEANINGS) - set(ROWS), "MEANINGS names unknown settings"


def test_the_bounds_were_read_from_the_validation():
    assert RANGES["code_digits"] == (6, 10)
    assert RANGES["lockout_max"] == (1, 7 * 86400)
    assert "must not exceed hard_lock_after" in RULES["lockout_after"]
    assert "must be SHA1, SHA256 or SHA512" in RULES["totp_algorithm"]
    rates = ("phone_budget_short", "phone_budget_long", "enrollment_budget", "subject_budget")
    for rate in (*rates, "ip_budget"):
        assert RULES[rate]  # from the loop over the budgets
    assert (
        "must allow at most 20 codes a day (limit × windows per day)" in RULES["enrollment_budget"]
    )
    assert set(RANGES) <= set(ROWS) and set(RULES) <= set(ROWS)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_each_documented_range_is_the_enforced_one(name):
    low, high = RANGES[name]
    for outside in (low - 1, high + 1):
        with pytest.raises(ConfigurationError) as error:
            Settings(secret_keys=("k" * 16,), **{name: outside})
        assert error.value.setting == name
    for inside in (low, high):
        problem = refusal(name, inside)  # only a rule tying it to another setting may refuse
        assert problem is None or problem.endswith(tuple(RULES[name])), problem


def refusal(name: str, value: int) -> str | None:
    try:
        Settings(secret_keys=("k" * 16,), **{name: value})
    except ConfigurationError as error:
        return str(error) if error.setting == name else None
    return None


def test_defaults_are_shown():
    assert ROWS["code_lifetime"].default == "``300``"
    assert ROWS["phone_budget_short"].default == "``5/15m``"
    assert ROWS["secret_keys"].default == "none: required"
    assert "5/15m" in ROWS["phone_budget_short"].text_form
