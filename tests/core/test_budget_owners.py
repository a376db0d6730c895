"""Send budgets are charged to whoever can spend them (issue 18, classes 2 and 7).

A stranger who "adds" someone's number spends only their own budgets (account, client IP)
and the number's small enrollment budget, never the owner's sign-in codes; a number still
receives at most a few unsolicited codes a day, whoever asks and from wherever. Per-IP
budgets count an IPv6 client by its /64. Every test runs on each store kind (memory, a real
Redis server, a real Redis Cluster), sync and async.
"""

from __future__ import annotations

import pytest

from otpgate import MalformedInput, SendLimitReached
from otpgate.core.policy import client_network
from tests.conftest import OTHER_PHONE, PHONE

ATTACKER_IP = "203.0.113.66"
VICTIM_IP = "198.51.100.7"


def enroll(gate, subject, number=PHONE, **kwargs):
    return gate.start_sms(subject, number, purpose="enroll", **kwargs)


def phone(n: int) -> str:
    return f"+336123456{n:02d}"


def refusal(call, *args, **kwargs) -> SendLimitReached:
    with pytest.raises(SendLimitReached) as caught:
        call(*args, **kwargs)
    return caught.value


def attempt(call, *args, **kwargs):
    """``(challenge, None)`` when the code went out, ``(None, scope)`` when a budget refused."""
    try:
        return call(*args, **kwargs), None
    except SendLimitReached as refused:
        return None, refused.scope


def victim(gate):
    gate.credentials.add_phone("victim", PHONE)
    return gate


def spend_by_starting(gate, clock):
    for n in range(5):
        enroll(gate, f"mallory{n % 2}", client_ip=ATTACKER_IP)


def spend_by_resending(gate, clock):
    for _ in range(2):
        challenge = enroll(gate, "mallory", client_ip=ATTACKER_IP)
        for wait in (30, 60):
            clock.advance(wait)
            _, refused = attempt(gate.resend, challenge.id, client_ip=ATTACKER_IP)
            assert refused in {None, "enrollment"}


class TestAStrangerCannotBlockASignIn:
    @pytest.mark.parametrize("spend", [spend_by_starting, spend_by_resending])
    def test_adding_the_victims_number_spends_only_its_enrollment_budget(
        self, gate, outbox, clock, spend
    ):
        victim(gate)
        spend(gate, clock)
        assert refusal(enroll, gate, "mallory9", client_ip=ATTACKER_IP).scope == "enrollment"
        outbox.clear()
        for purpose in ("login", "action", "login", "action", "login"):
            challenge = gate.start_sms("victim", purpose=purpose, client_ip=VICTIM_IP)
            code = outbox.last_code_for(PHONE)
            assert gate.check(challenge.id, code, subject="victim").subject == "victim"
        assert len(outbox.messages_to(PHONE)) == 5
        # the victim's own budget per number is theirs alone, and it still holds
        assert refusal(gate.start_sms, "victim", client_ip=VICTIM_IP).scope == "phone"

    def test_a_transaction_code_still_goes_to_a_number_strangers_keep_adding(
        self, gate, outbox, clock
    ):
        victim(gate)
        for day in range(3):  # renewed daily, as the attack was
            for n in range(10):
                _, refused = attempt(enroll, gate, f"mallory{day}-{n}", client_ip=f"203.0.113.{n}")
                assert refused in {None, "enrollment"}
            context = {"amount": "10.00", "payee": "Bob"}
            challenge = gate.start_sms("victim", purpose="transaction", context=context)
            code = outbox.last_code_for(PHONE)
            assert (
                gate.check(challenge.id, code, context=context, subject="victim").subject
                == "victim"
            )
            clock.advance(86400)

    def test_the_stranger_hits_their_own_limits_and_only_theirs(self, gate, outbox):
        victim(gate)
        for number in [PHONE, *(phone(n) for n in range(1, 10))]:
            enroll(gate, "mallory", number, client_ip=ATTACKER_IP)
        assert refusal(enroll, gate, "mallory", phone(10), client_ip="192.0.2.1").scope == (
            "subject"
        )
        for n, number in enumerate([PHONE] * 4 + [phone(10 + n) for n in range(6)]):
            enroll(gate, f"sybil{n}", number, client_ip=ATTACKER_IP)
        assert refusal(enroll, gate, "sybil10", phone(30), client_ip=ATTACKER_IP).scope == "ip"
        assert refusal(enroll, gate, "sybil11", client_ip="192.0.2.2").scope == "enrollment"
        challenge = gate.start_sms("victim", client_ip=VICTIM_IP)
        assert (
            gate.check(challenge.id, outbox.last_code_for(PHONE), subject="victim").subject
            == "victim"
        )


class TestUnsolicitedCodesStayBounded:
    def test_a_number_gets_at_most_five_codes_a_day_from_many_accounts_and_ips(
        self, gate, outbox, clock
    ):
        first = clock()
        for n in range(40):  # 40 accounts, each from its own IPv4 address or IPv6 /64
            ip = f"203.0.113.{n}" if n % 2 else f"2001:db8:{n:x}::1"
            challenge, refused = attempt(enroll, gate, f"attacker{n}", client_ip=ip)
            assert refused in {None, "enrollment"}
            if challenge is not None:
                clock.advance(30)
                _, refused = attempt(gate.resend, challenge.id, client_ip=ip)
                assert refused in {None, "enrollment"}
            clock.advance(900)  # past every short window
        assert len(outbox.messages_to(PHONE)) == 5
        assert clock() - first < 86400
        clock.now = first + 86400
        enroll(gate, "attacker99", client_ip="192.0.2.99")
        assert len(outbox.messages_to(PHONE)) == 6

    def test_other_numbers_are_not_affected(self, gate, outbox):
        for n in range(5):
            enroll(gate, f"attacker{n}")
        assert refusal(enroll, gate, "alice").scope == "enrollment"
        enroll(gate, "alice", OTHER_PHONE)
        assert len(outbox.messages_to(OTHER_PHONE)) == 1


class TestClientNetworks:
    def test_an_ipv6_client_is_counted_by_its_64(self, gate):
        for n in range(1, 21):  # any address of one /64: one host picks them freely
            ip = f"2001:db8:1:2:{n:x}:{n * 7:x}:{n * 13:x}:{n * 29:x}"
            enroll(gate, f"user{n}", phone(n), client_ip=ip)
        late = ("late", phone(21))
        assert refusal(enroll, gate, *late, client_ip="2001:db8:1:2:ffff::1").scope == "ip"
        enroll(gate, *late, client_ip="2001:db8:1:3::1")  # the next /64 is someone else

    def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(self, gate):
        for n in range(20):
            ip = "::ffff:203.0.113.9" if n % 2 else "203.0.113.9"
            enroll(gate, f"user{n}", phone(n), client_ip=ip)
        assert refusal(enroll, gate, "late", phone(20), client_ip="203.0.113.9").scope == "ip"
        enroll(gate, "late", phone(20), client_ip="203.0.113.10")

    @pytest.mark.parametrize("bad", [12345, b"203.0.113.9", ["203.0.113.9"], "1" * 65], ids=repr)
    def test_a_client_ip_that_is_not_short_text_is_malformed_and_counts_nothing(
        self, gate, outbox, clock, bad
    ):
        with pytest.raises(MalformedInput):
            enroll(gate, "alice", client_ip=bad)
        challenge = enroll(gate, "alice")
        clock.advance(30)
        for _ in range(5):
            with pytest.raises(MalformedInput):
                gate.resend(challenge.id, client_ip=bad)
        assert gate.get(challenge.id).sends_left == 4
        gate.resend(challenge.id, client_ip="203.0.113.9")  # no cooldown was started
        assert len(outbox.messages) == 2


@pytest.mark.parametrize(
    ("client_ip", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8::1", "2001:db8::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("::ffff:cb00:7109", "203.0.113.9"),
        ("fe80::1%eth0", "fe80::/64"),
        # 6to4: whoever holds 203.0.113.9 holds all of 2002:cb00:7109::/48 (65,536 /64s)
        ("2002:cb00:7109:1::1", "203.0.113.9"),
        ("2002:cb00:7109:ffff:1::1", "203.0.113.9"),
        # Teredo: the client's public IPv4 is in the address (obfuscated); the /64 is the
        # relay's, shared by every client of that relay
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),
        ("::1", "::/64"),
        ("testclient", "testclient"),  # a test client's name counts as itself, as before
        ("203.0.113.999", "203.0.113.999"),
        ("%", "%"),
    ],
)
def test_what_a_per_ip_budget_counts(client_ip, counted_as):
    assert client_network(client_ip) == counted_as
