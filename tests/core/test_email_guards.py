"""Email codes and the phone-only guards: the SMS pumping guard watches and credits number
ranges of SMS and voice sends only, and the SIM-swap check asks the operator about numbers
only; an email challenge (an address, no number) passes by both, over every store and both
verifiers."""

from __future__ import annotations

import itertools

import pytest

from otpgate import Settings, SimSwapAnswer, SmsTemporarilyUnavailable
from otpgate.core.mailers import OutboxEmailSender
from tests.conftest import KEY, PHONE

_BOTS = itertools.count()


def _settings(**changes: object) -> Settings:
    base: dict[str, object] = {
        "secret_keys": (KEY,),
        "pumping_new_country_allowance": 1000,
        "pumping_country_floor": 1000,
    }
    base.update(changes)
    return Settings(**base)  # type: ignore[arg-type]


def _pump(gate, clock, n: int) -> list[SmsTemporarilyUnavailable]:
    """``n`` enrollment codes to fresh numbers of +33 6123, never entered."""
    refusals = []
    for i in range(n):
        try:
            gate.start_sms(f"bot{next(_BOTS)}", f"+336123{i:05d}", purpose="enroll",
                           client_ip=f"198.51.{i // 250}.{i % 250}")  # fmt: skip
        except SmsTemporarilyUnavailable as error:
            refusals.append(error)
        clock.advance(20)
    return refusals


def test_verified_email_codes_credit_no_number_range(make_gate, clock):
    """Entered email codes are no evidence about any number range: checking them works with
    the guard on, and they do not lift a pumped range's conversion (it is still blocked at
    its floor), while entered SMS codes do."""
    emails = OutboxEmailSender()
    gate = make_gate(_settings(), email_sender=emails)
    for i in range(40):  # 40 people add an address, each enters the emailed code
        subject, address = f"user{i}", f"user{i}@example.org"
        challenge = gate.start_email(subject, address, purpose="enroll")
        verified = gate.check(challenge.id, emails.last_code_for(address), subject=subject)
        assert verified.factor == "email"
        clock.advance(5)
    assert gate._credits.__len__() == 0  # nothing waits for the next send
    refusals = _pump(gate, clock, 40)
    assert len(refusals) == 10 and refusals[0].reason == "prefix_blocked"


def test_email_sends_are_not_counted_in_number_ranges(make_gate, clock):
    """Sends to addresses never fill a range: the range's floor is left whole for texts."""
    emails = OutboxEmailSender()
    gate = make_gate(_settings(), email_sender=emails)
    for i in range(40):
        gate.start_email(f"bot{next(_BOTS)}", f"bot{i}@example.org", purpose="enroll")
        clock.advance(20)
    assert len(_pump(gate, clock, 30)) == 0


class SwappedEverywhere:
    """A SIM-swap check that says every SIM just changed, and notes what it was asked."""

    nonblocking = True  # it answers from memory: the async verifier may call it as is

    def __init__(self) -> None:
        self.asked: list[str] = []

    def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer:
        self.asked.append(e164)
        return SimSwapAnswer("swapped")


def test_the_sim_swap_check_guards_phone_channels_not_email(make_gate, outbox):
    """A fresh SIM swap pauses codes to the number; codes to the subject's verified address
    are still sent, and the operator is never asked about an address."""
    emails, check = OutboxEmailSender(), SwappedEverywhere()
    gate = make_gate(
        Settings(secret_keys=(KEY,), sim_swap_max_age=72), email_sender=emails, sim_swap=check
    )
    gate.credentials.add_phone("alice", PHONE)
    gate.credentials.add_email("alice", "alice@example.org")
    with pytest.raises(SmsTemporarilyUnavailable) as refused:
        gate.start_sms("alice", purpose="login")
    assert refused.value.reason == "sim_swap" and check.asked == [PHONE]
    assert outbox.messages == []
    challenge = gate.start("alice", "email", purpose="login")
    assert challenge is not None and challenge.masked_phone == "a••••@example.org"
    code = emails.last_code_for("alice@example.org")
    assert gate.verify("alice", "email", code, purpose="login", challenge_id=challenge.id)
    assert check.asked == [PHONE]  # not asked again, and never about the address
