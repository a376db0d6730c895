"""One-time form tokens: each rendering's token acts once; others never."""

from __future__ import annotations

from otpgate.core import form_once


def test_a_token_acts_once() -> None:
    session: dict[str, object] = {}
    token = form_once.issue(session, "recovery")
    assert form_once.consume(session, "recovery", token)
    assert not form_once.consume(session, "recovery", token)  # the reload / resubmission


def test_unknown_missing_or_other_purpose_tokens_are_refused() -> None:
    session: dict[str, object] = {}
    token = form_once.issue(session, "recovery")
    for bad in (None, "", "x", "x" * 10_000, 5, ["a"], "é", "\ud800"):
        assert not form_once.consume(session, "recovery", bad)
    assert not form_once.consume(session, "other", token)
    assert not form_once.consume({}, "recovery", token)  # another session
    assert form_once.consume(session, "recovery", token)


def test_several_tabs_each_act_once_and_only_the_latest_few_are_kept() -> None:
    session: dict[str, object] = {}
    tokens = [form_once.issue(session, "recovery") for _ in range(form_once.KEPT + 2)]
    assert not form_once.consume(session, "recovery", tokens[0])  # too old: dropped
    assert form_once.consume(session, "recovery", tokens[-1])
    assert form_once.consume(session, "recovery", tokens[-2])
    assert not form_once.consume(session, "recovery", tokens[-1])


def test_a_damaged_session_value_is_treated_as_no_token() -> None:
    for damaged in ("x", {"recovery": "x"}, {"recovery": [1, None]}):
        session: dict[str, object] = {form_once.SESSION_KEY: damaged}
        assert not form_once.consume(session, "recovery", "x")
        token = form_once.issue(session, "recovery")
        assert form_once.consume(session, "recovery", token)


def test_check_tells_a_resubmission_from_a_stale_or_missing_token() -> None:
    session: dict[str, object] = {}
    token = form_once.issue(session, "recovery")
    assert form_once.check(session, "recovery", None) == "stale"  # a form without the field
    assert form_once.check(session, "recovery", "") == "stale"
    assert form_once.check(session, "recovery", "made-up") == "stale"
    assert form_once.check(session, "recovery", "ü\ud800") == "stale"  # not a 500
    foreign = form_once.issue({}, "recovery")  # another session's form
    assert form_once.check(session, "recovery", foreign) == "stale"
    assert form_once.check(session, "other", token) == "stale"
    assert form_once.check(session, "recovery", token) is None  # acts, once
    assert form_once.check(session, "recovery", token) == "resent"  # the reload
    assert form_once.check(session, "recovery", token) == "resent"
