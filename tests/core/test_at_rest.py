"""Nothing personal in clear in a store: ``MemoryStore`` after a full flow, and the sealed
values of a challenge are bound to it."""

from __future__ import annotations

import dataclasses

import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    InvalidCode,
    MemoryStore,
    OutboxSender,
    Settings,
    Verifier,
)
from tests.at_rest import SETTINGS, run_flow, walk
from tests.conftest import KEY, OTHER_PHONE, PHONE, FakeClock, Sync


@pytest.mark.parametrize("cls", [Verifier, AsyncVerifier])
def test_the_memory_store_holds_nothing_personal_in_clear(cls, loop):
    clock, outbox, store = FakeClock(), OutboxSender(), MemoryStore(clock=lambda: 0.0)
    gate = Sync(cls(SETTINGS, store=store, sender=outbox, clock=clock), loop)
    secrets = run_flow(gate, outbox, clock)
    assert len(store._challenges) >= 4 and store._subjects and store._budgets
    held = list(walk(vars(store)))
    found = {leak for text in held for leak in secrets.leaks(text)}
    assert not found, f"in clear in MemoryStore: {sorted(found)}"
    # Not vacuous: the same walk finds what the verifier was told.
    assert secrets.leaks(" ".join(walk(vars(outbox))))


def _gate(guard: bool = True) -> tuple[Verifier, MemoryStore, OutboxSender, FakeClock]:
    clock, outbox, store = FakeClock(), OutboxSender(), MemoryStore(clock=lambda: 0.0)
    settings = Settings(secret_keys=(KEY,), pumping_guard=guard)
    return (
        Verifier(settings, store=store, sender=outbox, clock=clock),
        store,
        outbox,
        clock,
    )


def test_a_sealed_value_opens_only_in_its_own_challenge():
    gate, store, outbox, clock = _gate()
    mine = gate.start_sms("alice", PHONE, purpose="enroll")
    theirs = gate.start_sms("alice", OTHER_PHONE, purpose="enroll")
    record = store._challenges[theirs.id]
    # Someone who can write to the store moves my delivery (number and code) into their
    # challenge, and my subject into its subject: neither opens there.
    store._challenges[theirs.id] = dataclasses.replace(
        record, sealed_delivery=store._challenges[mine.id].sealed_delivery
    )
    clock.advance(31)
    with pytest.raises(ChallengeExpired):
        gate.resend(theirs.id)
    store._challenges[theirs.id] = dataclasses.replace(
        record, sealed_subject=record.sealed_delivery, next_send_at=0.0
    )  # one sealed field in the place of another
    with pytest.raises(ChallengeExpired):
        gate.get(theirs.id)
    assert [m.to for m in outbox.messages] == [PHONE, OTHER_PHONE]


def test_challenges_sealed_under_a_key_no_longer_configured_are_expired():
    gate, store, outbox, clock = _gate()
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    rotated = Verifier(
        Settings(secret_keys=("another-key-0123456789abcdef0123456",)),
        store=store, sender=outbox, clock=clock,
    )  # fmt: skip
    clock.advance(31)
    with pytest.raises(ChallengeExpired):
        rotated.resend(challenge.id)  # never a 500 for a value that does not open
    with pytest.raises(ChallengeExpired):
        rotated.get(challenge.id)
    rotated.delivery_report(challenge.id, "delivered")  # no event to tell, no error
    assert len(outbox.messages) == 1


def test_a_check_opens_only_what_it_needs(monkeypatch):
    gate, _, outbox, _ = _gate(guard=False)
    opened: list[str] = []
    real_open = gate.keyring.open

    def counting_open(token: str, *, context: str = "") -> str:
        opened.append(context.rpartition("\x1f")[2])
        return real_open(token, context=context)

    monkeypatch.setattr(gate.keyring, "open", counting_open)
    gate.credentials.add_phone("alice", PHONE)
    named = gate.start_sms("alice")
    unnamed = gate.start_sms("alice")
    assert opened == []  # a start seals; it opens nothing
    assert gate.check(named.id, outbox.messages[0].code, subject="alice").subject == "alice"
    assert opened == []  # the subject named: its key in the challenge id proves it
    assert gate.check(unnamed.id, outbox.messages[1].code).subject == "alice"
    assert opened == ["subject"]  # never the number
    enroll = gate.start_sms("alice", OTHER_PHONE, purpose="enroll")
    opened.clear()
    gate.check(enroll.id, outbox.last_code_for(OTHER_PHONE), subject="alice")
    assert opened == ["delivery"] and gate.credentials.phones("alice") == [PHONE, OTHER_PHONE]


def test_with_the_pumping_guard_an_approved_code_opens_its_delivery_for_its_range(monkeypatch):
    """The guard credits the number's range with each code entered: the approved check only
    notes the challenge, and the next send opens its delivery (in memory, once) to know the
    range; a refused check opens nothing."""
    gate, _, outbox, _ = _gate()
    opened: list[str] = []
    real_open = gate.keyring.open

    def counting_open(token: str, *, context: str = "") -> str:
        opened.append(context.rpartition("\x1f")[2])
        return real_open(token, context=context)

    monkeypatch.setattr(gate.keyring, "open", counting_open)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start_sms("alice")
    wrong = "000000" if outbox.messages[0].code != "000000" else "111111"
    with pytest.raises(InvalidCode):
        gate.check(challenge.id, wrong, subject="alice")
    assert opened == []
    gate.check(challenge.id, outbox.messages[0].code, subject="alice")
    assert opened == []  # noted, not opened: off the check's hot path
    gate.start_sms("alice")
    assert opened == ["delivery"]
