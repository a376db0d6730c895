"""The SMS pumping guard: the pure decision on a range's counts, then the verifiers on a fake
clock over every store (memory, Redis, Redis Cluster): blocks, trusted sends, conversion,
events, the refusal's answer, other factors, expiry and an operator's lift."""

from __future__ import annotations

import itertools
import json

import pyotp
import pytest

from otpgate import (
    ConfigurationError,
    EventName,
    SendLimitReached,
    Settings,
    SmsTemporarilyUnavailable,
)
from otpgate.core import guard
from otpgate.core.http import error_response
from otpgate.core.policy import Budget
from otpgate.core.pumping import (
    HOUR,
    MINUTE,
    Credits,
    PumpingRule,
    Watch,
    count,
    credit,
    judge,
    parse_label,
    prefix_label,
)
from tests.conftest import KEY

_BOTS = itertools.count()
RULE = PumpingRule(window=1800, surge=5, min_conversion=30, min_sample=20, block=6 * 3600)


def _watch(**changes: object) -> Watch:
    fields: dict[str, object] = {
        "scope": "pumping_prefix",
        "key": "w:x",
        "label": "+33 6123",
        "floor": 30,
        "fresh": 10,
        "rule": RULE,
    }
    fields.update(changes)
    return Watch(**fields)  # type: ignore[arg-type]


def _sends(fields: dict[str, int], watch: Watch, at: float, n: int) -> None:
    for _ in range(n):
        count(fields, watch, at)


# -- the pure decision ---------------------------------------------------------------------


def test_a_quiet_range_may_take_its_floor_then_unconverted_sends_block_it():
    watch, now = _watch(), 30 * HOUR
    fields = {f"h{int(now // HOUR) - 5}": 1}  # some history: the floor applies
    _sends(fields, watch, now - 20 * MINUTE, 30)
    denial = judge(fields, watch, now)
    assert denial is not None and denial.scope == "pumping_prefix"
    assert denial.retry_after == RULE.block
    assert denial.detail == {
        "sends": 30, "settled": 30, "verified": 0, "limit": 30, "baseline": 1, "horizon": 1800
    }  # fmt: skip
    assert judge(fields, watch, now + RULE.block - 1) is not None  # blocked, no detail now
    assert judge(fields, watch, now + RULE.block - 1).detail is None  # type: ignore[union-attr]
    later = now + RULE.block
    credit(fields, watch, later)
    # The block ends; still unconverted over the day, the range is blocked again at once,
    denial = judge(fields, watch, later)
    assert denial is not None and denial.detail is not None
    assert denial.detail["horizon"] == 24 * HOUR
    del fields["b"]
    credit(fields, watch, now + 24 * HOUR)  # until its sends leave the day
    assert judge(fields, watch, now + 24 * HOUR) is None


def test_converted_traffic_is_never_blocked_however_high():
    watch, fields, now = _watch(), {}, 30 * HOUR
    _sends(fields, watch, now - 20 * MINUTE, 500)
    credit(fields, _watch(count=False, verified=160), now - 19 * MINUTE)  # 32 %
    assert judge(fields, watch, now) is None
    fields = {}
    _sends(fields, watch, now - 20 * MINUTE, 500)
    credit(fields, _watch(count=False, verified=140), now - 19 * MINUTE)  # 28 %
    assert judge(fields, watch, now) is not None


def test_codes_still_in_flight_do_not_count_as_lost():
    watch, fields, now = _watch(), {}, 30 * HOUR
    _sends(fields, watch, now, 100)  # a burst this very minute: nobody could type yet
    assert judge(fields, watch, now) is None
    denial = judge(fields, watch, now + 2 * MINUTE)  # settled now, and none entered
    assert denial is not None and denial.detail is not None
    assert denial.detail["settled"] == 100


def test_the_limit_follows_the_range_s_own_baseline():
    watch, now = _watch(), 30 * HOUR
    hour = int(now // HOUR)
    busy = {f"h{h}": 600 for h in range(hour - 24, hour - 1)}  # 600 an hour, for a day
    busy.update({f"g{h}": 480 for h in range(hour - 24, hour - 1)})  # 80 % entered
    _sends(busy, watch, now - 20 * MINUTE, 1400)  # 4.7 x the 300 of a half hour
    assert judge(busy, watch, now) is None
    _sends(busy, watch, now - 20 * MINUTE, 100)  # 5 x
    denial = judge(busy, watch, now)
    assert denial is not None and denial.detail is not None
    assert denial.detail["limit"] == 1500 and denial.detail["baseline"] == 600 * 23


def test_a_slow_attack_that_never_surges_is_caught_over_the_day():
    watch, now = _watch(), 30 * HOUR
    fields: dict[str, int] = {}
    for hour in range(12):  # 3 an hour: far under the floor of any window
        _sends(fields, watch, now - hour * HOUR - 10 * MINUTE, 3)
    credit(fields, _watch(count=False, verified=10), now - 5 * HOUR)  # 10 of 36: 28 %
    denial = judge(fields, watch, now)
    assert denial is not None and denial.detail is not None
    assert (denial.detail["horizon"], denial.detail["sends"]) == (24 * HOUR, 36)
    assert denial.detail["verified"] == 10 and denial.detail["limit"] == 30
    fields.pop("b")
    credit(fields, _watch(count=False, verified=1), now)  # 11 of 36: enough entered
    assert judge(fields, watch, now) is None


def test_a_range_with_no_history_gets_the_low_allowance():
    watch, fields, now = _watch(fresh=10), {}, 30 * HOUR
    _sends(fields, watch, now - 10 * MINUTE, 9)
    assert judge(fields, watch, now) is None
    count(fields, watch, now - 10 * MINUTE)
    denial = judge(fields, watch, now)
    assert denial is not None and denial.detail is not None and denial.detail["limit"] == 10


def test_trusted_sends_are_counted_never_refused():
    watch, fields, now = _watch(), {}, 30 * HOUR
    _sends(fields, watch, now - 20 * MINUTE, 40)
    assert judge(fields, watch, now) is not None  # blocked
    assert judge(fields, _watch(trusted=True), now) is None


def test_old_buckets_leave_the_window_and_the_baseline():
    watch, now = _watch(), 30 * HOUR
    fields: dict[str, int] = {}
    _sends(fields, watch, now - 31 * MINUTE, 5)
    _sends(fields, watch, now - 26 * HOUR, 5)
    credit(fields, watch, now)
    assert sorted(fields) == [f"h{int((now - 31 * MINUTE) // HOUR)}"]


def test_credits_merge_into_the_next_send_and_come_back_after_a_failure():
    credits = Credits()
    prefix, country = _watch(key="w:p"), _watch(key="w:c", scope="pumping_country")
    credits.add([prefix, country])
    credits.add([prefix])
    budget = Budget("subject", "s:x", 10, 60)
    entries = credits.take([budget, _watch(key="w:p", trusted=True)])
    assert entries[0] is budget
    assert [(e.key, e.verified, e.count) for e in entries[1:]] == [  # type: ignore[union-attr]
        ("w:p", 2, True),
        ("w:c", 1, False),
    ]
    assert len(credits) == 0
    credits.restore(e for e in entries if isinstance(e, Watch))
    assert sorted((w.key, w.verified) for w in credits.take([])) == [("w:c", 1), ("w:p", 2)]


def test_labels():
    assert prefix_label("+447700900123", "44", 4) == "+44 7700"
    assert parse_label("+44 7700") == parse_label("44-7700") == "+44 7700"
    assert parse_label("+447700", ["1", "44"]) == "+44 7700"
    assert parse_label("+44", ["44"]) == "+44"
    for bad in ("", "+44 77a0", "abc"):
        with pytest.raises(ValueError, match="prefix"):
            parse_label(bad)


def test_settings_are_validated():
    with pytest.raises(ConfigurationError, match="pumping_window"):
        Settings(secret_keys=(KEY,), pumping_window=1801)
    with pytest.raises(ConfigurationError, match="pumping_min_conversion"):
        Settings(secret_keys=(KEY,), pumping_min_conversion=101)
    off = Settings.from_mapping({"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_PUMPING_GUARD": "false"})
    assert off.pumping_guard is False


# -- the verifiers, over every store ---------------------------------------------------------


def _settings(**changes: object) -> Settings:
    # A country with history, so the prefix's own floor decides (the country's allowance
    # is tested on its own).
    base: dict[str, object] = {
        "secret_keys": (KEY,),
        "pumping_new_country_allowance": 1000,
        "pumping_country_floor": 1000,
    }
    base.update(changes)
    return Settings(**base)  # type: ignore[arg-type]


def _pump(gate, clock, n: int, base: str = "+336123", every: float = 20.0) -> list:
    """``n`` enrollment codes to fresh numbers of ``base`` from fresh accounts and IPs."""
    refusals = []
    for i in range(n):
        try:
            gate.start_sms(f"bot{next(_BOTS)}", f"{base}{i:05d}", purpose="enroll",
                           client_ip=f"198.51.{i // 250}.{i % 250}")  # fmt: skip
        except SmsTemporarilyUnavailable as error:
            refusals.append(error)
        clock.advance(every)
    return refusals


def test_a_pumped_prefix_is_blocked_and_the_refusal_explains_itself(make_gate, clock, outbox):
    gate = make_gate(_settings())
    events = []
    gate.subscribe(events.append)
    refusals = _pump(gate, clock, 40)
    assert len(outbox.messages) == 30 and len(refusals) == 10  # the floor, then nothing
    assert {error.reason for error in refusals} == {"prefix_blocked"}
    blocked = [e for e in events if e.name is EventName.PUMPING_BLOCKED]
    assert len(blocked) == 1
    detail = blocked[0].detail
    assert (detail["scope"], detail["prefix"], detail["sends"], detail["verified"]) == (
        "pumping_prefix".removeprefix("pumping_"),
        "+33 6123",
        30,
        0,
    )
    assert detail["settled"] >= 20 and detail["block_seconds"] == 6 * 3600
    assert "+336123" not in repr(blocked)  # no number, only the range's label
    response = error_response(refusals[-1])
    assert response.status == 409 and response.body["code"] == "sms_temporarily_unavailable"
    assert response.body["reason"] == "prefix_blocked"
    assert 6 * 3600 - 10 * 20 <= response.body["retry_after"] <= 6 * 3600
    assert "+33" not in json.dumps(response.body)
    # Another range of the same country is not touched.
    gate.start_sms("someone", "+33798765432", purpose="enroll")


def test_a_blocked_prefix_never_stops_a_verified_number_nor_another_factor(
    make_gate, clock, outbox
):
    gate = make_gate(_settings())
    totp_user = gate.totp.enroll("dana")
    gate.totp.confirm("dana", pyotp.TOTP(totp_user.secret).at(clock.now))
    gate.credentials.add_phone("erin", "+33612399999")  # verified before the attack
    _pump(gate, clock, 40)
    # Sign-in to a number on file is trusted: counted, never refused.
    challenge = gate.start_sms("erin", purpose="login")
    assert gate.check(challenge.id, outbox.last_code_for("+33612399999"), subject="erin")
    # Adding a number in the blocked range is refused; the authenticator app still serves.
    with pytest.raises(SmsTemporarilyUnavailable) as refused:
        gate.start_sms("dana", "+33612388888", purpose="enroll")
    assert refused.value.reason == "prefix_blocked"
    assert "totp" in [option.name for option in gate.offer("dana", "login")]


def test_real_users_who_enter_their_codes_are_never_blocked(make_gate, clock, outbox):
    gate = make_gate(_settings())
    for i in range(120):  # four times the floor in the window, four in five entered
        number = f"+336123{i:05d}"
        challenge = gate.start_sms(f"user{i}", number, purpose="enroll")
        if i % 5:
            gate.check(challenge.id, outbox.last_code_for(number), subject=f"user{i}")
        clock.advance(15)
    assert len(outbox.messages) == 120


def test_a_new_country_gets_a_low_allowance(make_gate, clock):
    gate = make_gate(Settings(secret_keys=(KEY,)))
    events = []
    gate.subscribe(events.append)
    refusals = _pump(gate, clock, 20, base="+22507000")  # Côte d'Ivoire, never sent to
    # 10 sends, then more until 10 of them are old enough to judge (2 minutes)
    assert len(refusals) == 5 and refusals[0].reason == "country_blocked"
    blocked = [e for e in events if e.name is EventName.PUMPING_BLOCKED]
    assert blocked[0].detail["scope"] == "country" and blocked[0].detail["prefix"] == "+225"
    assert blocked[0].detail["limit"] == 10


def test_an_operator_lists_and_lifts_a_block_and_blocks_end_by_themselves(make_gate, clock):
    gate = make_gate(_settings(pumping_block_seconds=3600))
    _pump(gate, clock, 40)
    blocks = gate.pumping_blocks()
    assert [b.label for b in blocks] == ["+33 6123"]
    assert blocks[0].until > clock.now
    assert gate.lift_pumping_block("+336123") is True
    assert gate.pumping_blocks() == []
    assert gate.lift_pumping_block("+33 6123") is False
    # Lifted, the range starts a fresh window: the floor again, then the block again.
    assert len(_pump(gate, clock, 40)) == 10
    clock.advance(3600)
    assert gate.pumping_blocks() == []
    with pytest.raises(ValueError, match="prefix"):
        gate.lift_pumping_block("not a prefix")


def test_the_guard_can_be_turned_off(make_gate, clock, outbox):
    gate = make_gate(_settings(pumping_guard=False))
    assert _pump(gate, clock, 40) == []
    assert len(outbox.messages) == 40


def test_a_start_refused_by_a_budget_counts_nothing_in_the_ranges(make_gate, clock):
    gate = make_gate(_settings(ip_budget="1/h"))
    gate.start_sms("a", "+33612300001", purpose="enroll", client_ip="192.0.2.1")
    for n in range(40):  # every one refused by the client's budget, none counted
        with pytest.raises(SendLimitReached):
            gate.start_sms(f"b{n}", f"+336123{n:05d}", purpose="enroll", client_ip="192.0.2.1")
        clock.advance(20)
    assert _pump(gate, clock, 29) == []


def test_a_check_only_notes_its_approval_and_the_ranges_are_worked_out_later(
    make_gate, clock, outbox, monkeypatch
):
    """An approval costs the check a note; its ranges are credited with the next send, or
    as soon as MAX_DEFERRED approvals wait (a process that checks and never sends)."""
    monkeypatch.setattr(guard, "MAX_DEFERRED", 3)
    gate = make_gate(_settings())
    for i in range(2):
        number = f"+336123{i:05d}"
        challenge = gate.start_sms(f"user{i}", number, purpose="enroll")
        gate.check(challenge.id, outbox.last_code_for(number), subject=f"user{i}")
        assert len(gate._credits) == 1  # the approval, noted: no range worked out yet
    challenge = gate.start_sms("user2", "+33612300002", purpose="enroll")
    # That start carried both credits (same prefix, same country) to the store.
    assert len(gate._credits) == 0
    started = [
        (i, gate.start_sms(f"user{i}", f"+447700{i:06d}", purpose="enroll")) for i in range(3, 6)
    ]
    for i, challenge in started:
        gate.check(challenge.id, outbox.last_code_for(f"+447700{i:06d}"), subject=f"user{i}")
    # The third approval worked all three out: one credit per range (prefix and country).
    pending = {w.label: w.verified for w in gate._credits.take([])}  # type: ignore[union-attr]
    assert pending == {"+44 7700": 3, "+44": 3}
