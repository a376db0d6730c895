"""Recovery codes imported from django-otp (8-letter static tokens) work as otpgate's do."""

from __future__ import annotations

import pytest

from otpgate.core.codes import IMPORTED_RECOVERY, clean_imported_code
from otpgate.core.errors import InvalidCode, MalformedInput


def _import(gate, subject: str, *tokens: str) -> None:
    """What ``otpgate_import_django_otp`` stores: keyed digests of the canonical tokens."""
    keyring = gate.keyring
    digests = [keyring.digest(IMPORTED_RECOVERY, subject, clean_imported_code(t)) for t in tokens]
    gate.credentials.replace_recovery_codes(subject, digests)


def test_canonical_form():
    assert clean_imported_code(" ABCD-2345 ") == "abcd2345"
    assert clean_imported_code("abcd 2345 xy") == "abcd2345xy"
    for bad in ("abcd", "abcd2345abcd", "abcd_2345", "ábcd2345", None, 12345678, "x" * 100):
        assert clean_imported_code(bad) is None


def test_an_imported_token_signs_in_once_and_only_for_its_subject(gate):
    _import(gate, "alice", "abcd2345", "wxyz6723")
    with pytest.raises(InvalidCode):
        gate.check_recovery("bob", "abcd2345")
    assert gate.check_recovery("alice", "ABCD 2345").factor == "recovery"
    with pytest.raises(InvalidCode):
        gate.check_recovery("alice", "abcd2345")
    with pytest.raises(MalformedInput):
        gate.check_recovery("alice", "abc")
    assert gate.check_recovery("alice", "wxyz6723").factor == "recovery"
