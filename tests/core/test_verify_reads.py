"""Issue 17: ``gate.verify`` reads only the factor data the check needs, once (counted
repository calls, no timing), on both verifier flavours and every store."""

from __future__ import annotations

from collections import Counter

import pytest

from otpgate import FactorNotEnrolled, MemoryCredentials, Verification
from otpgate.core.factors import builtin_factors
from otpgate.core.factors.reads import UNKNOWN, known_app
from tests.conftest import PHONE
from tests.core.test_factors import enrolled
from tests.factors import PinFactor

READS = {"phones", "get_totp", "recovery_codes_left", "emails", "passkeys"}


class CountingCredentials:
    """``MemoryCredentials`` that counts the calls of each read of a subject's factors."""

    nonblocking = True

    def __init__(self) -> None:
        self._inner = MemoryCredentials()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name):
        method = getattr(self._inner, name)
        if name not in READS:
            return method

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted

    def reads(self) -> dict[str, int]:
        found = dict(self.calls)
        self.calls.clear()
        return found


@pytest.fixture
def counted(make_gate):
    credentials = CountingCredentials()
    return make_gate(credentials=credentials), credentials


def test_a_right_sms_code_reads_the_numbers_once_and_nothing_else(counted, outbox):
    gate, credentials = counted
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    credentials.reads()
    code = outbox.last_code_for(PHONE)
    gate.verify("alice", "sms", code, purpose="login", challenge_id=challenge.id)
    assert credentials.reads() == {"phones": 1}


def test_a_right_app_code_reads_the_app_once(counted, clock):
    gate, credentials = counted
    totp = enrolled(gate, clock)
    gate.credentials.add_phone("alice", PHONE)
    credentials.reads()
    verification = gate.verify("alice", "totp", totp.at(clock()), purpose="login")
    assert verification.factor == "totp"
    assert credentials.reads() == {"get_totp": 1}


def test_a_wrong_app_code_still_reads_the_app_once(counted, clock):
    from otpgate import InvalidCode

    gate, credentials = counted
    totp = enrolled(gate, clock)
    credentials.reads()
    right = totp.at(clock())
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000" if right != "000000" else "111111", purpose="login")
    assert credentials.reads() == {"get_totp": 1}


def test_a_recovery_code_reads_only_the_codes(counted, clock):
    gate, credentials = counted
    enrolled(gate, clock)
    codes = gate.recovery.generate("alice")
    credentials.reads()
    assert gate.verify("alice", "recovery", codes[0], purpose="login").factor == "recovery"
    assert credentials.reads() == {"recovery_codes_left": 1}


def test_a_factor_the_subject_lacks_is_still_refused(counted, clock):
    gate, credentials = counted
    gate.credentials.add_phone("alice", PHONE)
    with pytest.raises(FactorNotEnrolled):
        gate.verify("alice", "totp", "123456", purpose="login")
    with pytest.raises(FactorNotEnrolled):
        gate.verify("bob", "sms", "123456", purpose="login")
    assert credentials.reads() == {"get_totp": 1, "phones": 1}


def test_a_factor_that_declares_nothing_gets_every_kind_read(make_gate):
    credentials = CountingCredentials()
    factors = builtin_factors()
    factors.register(PinFactor())  # declares no ``reads``: the full snapshot, as before
    gate = make_gate(credentials=credentials, registry=factors)
    assert gate.verify("alice", "pin", "2468", purpose="login").factor == "pin"
    assert {"phones", "get_totp", "recovery_codes_left"} <= set(credentials.reads())


def test_the_app_read_is_known_only_inside_that_verify(counted, clock):
    gate, credentials = counted
    totp = enrolled(gate, clock)
    credentials.reads()
    assert known_app(gate, "alice") is UNKNOWN
    gate.verify("alice", "totp", totp.at(clock()), purpose="login")
    assert known_app(gate, "alice") is UNKNOWN  # reset once the call returned
    clock.advance(30)
    assert isinstance(gate.check_totp("alice", totp.at(clock())), Verification)
    assert credentials.reads() == {"get_totp": 2}  # the direct check reads it itself
