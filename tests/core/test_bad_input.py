"""Bad input gets a typed error, never a crash, never an approval, and uses up nothing."""

from __future__ import annotations

import pyotp
import pytest

from otpgate import (
    ChallengeExpired,
    ContextMismatch,
    InvalidCode,
    InvalidPhoneNumber,
    MalformedInput,
    OtpgateError,
    PhoneRegionNotAllowed,
    PhoneTypeNotAllowed,
    Settings,
)
from tests.conftest import KEY, PHONE

BAD_CODES = [
    "¹²³⁴⁵⁶",  # superscripts: isdigit() says yes, but they are not decimal digits
    "١٢٣٤٥x",  # Arabic-Indic digits and a letter
    "١٢٣ ٤٥٦",  # Arabic-Indic digits with a blank inside
    "１２３４５６７",  # seven fullwidth digits
    "123 456",
    "123-456",
    "12345",
    "1234567",
    "x" * 10_000,
    "",
    None,
    123456,
    12.5,
    b"123456",
    ["123456"],
]


@pytest.mark.parametrize("bad", BAD_CODES, ids=repr)
def test_malformed_sms_codes_use_up_no_attempt(gate, outbox, bad):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    for _ in range(10):
        with pytest.raises(MalformedInput) as caught:
            gate.check(challenge.id, bad)
        assert outbox.last_code_for(PHONE) not in str(caught.value)
    assert gate.get(challenge.id).attempts_left == 5
    gate.check(challenge.id, outbox.last_code_for(PHONE))


#: Keyboards with other digits: Arabic-Indic, Persian, Devanagari, fullwidth.
OTHER_DIGITS = ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９"]


@pytest.mark.parametrize("script", OTHER_DIGITS)
def test_the_real_code_in_other_digits_is_approved(gate, outbox, script):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    for variant in (f"{code[:3]} {code[3:]}", f"{code[:3]}-{code[3:]}"):
        with pytest.raises(MalformedInput):
            gate.check(challenge.id, variant)
    assert gate.get(challenge.id).attempts_left == 5
    typed = code.translate(str.maketrans("0123456789", script))
    assert gate.check(challenge.id, f" {typed}\n").subject == "alice"


@pytest.mark.parametrize("script", OTHER_DIGITS)
def test_a_wrong_code_in_other_digits_counts_like_a_wrong_code(gate, outbox, script):
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidCode):
        gate.check(challenge.id, wrong.translate(str.maketrans("0123456789", script)))
    assert gate.get(challenge.id).attempts_left == 4


@pytest.mark.parametrize("script", OTHER_DIGITS)
def test_totp_and_recovery_codes_in_other_digits(gate, clock, script):
    totp = pyotp.TOTP(gate.totp.enroll("alice").secret)
    digits = str.maketrans("0123456789", script)
    gate.totp.confirm("alice", totp.at(clock()).translate(digits))
    clock.advance(30)
    assert gate.check_totp("alice", totp.at(clock()).translate(digits)).factor == "totp"
    codes = gate.recovery.generate("alice")
    assert gate.check_recovery("alice", codes[0].translate(digits)).factor == "recovery"


@pytest.mark.parametrize("bad", BAD_CODES, ids=repr)
def test_malformed_totp_and_recovery_codes(gate, bad):
    gate.recovery.generate("alice")
    with pytest.raises(MalformedInput):
        gate.check_totp("alice", bad)
    with pytest.raises(MalformedInput):
        gate.check_recovery("alice", bad)


@pytest.mark.parametrize(
    "challenge_id",
    [None, 42, "", "x" * 10_000, "../../etc", "a.b", "ä" * 22 + "." + "b" * 22],
    ids=repr,
)
def test_bad_challenge_ids(gate, challenge_id):
    with pytest.raises((MalformedInput, ChallengeExpired)):
        gate.check(challenge_id, "123456")
    with pytest.raises((MalformedInput, ChallengeExpired)):
        gate.resend(challenge_id)
    with pytest.raises((MalformedInput, ChallengeExpired)):
        gate.get(challenge_id)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("not a number", InvalidPhoneNumber),
        ("+", InvalidPhoneNumber),
        ("+1 555", InvalidPhoneNumber),
        ("+" + "9" * 10_000, InvalidPhoneNumber),
        ("+٣٣ ٦١٢٣٤٥٦٧x", InvalidPhoneNumber),  # Arabic-Indic digits and a letter
        ("+33 ⁶¹²³⁴⁵⁶⁷⁸", InvalidPhoneNumber),  # superscripts are not decimal digits
        (PHONE + "\x00", InvalidPhoneNumber),
        ("+33 6 12\n34 56 78", InvalidPhoneNumber),
        ("+1 900 555 0123", PhoneTypeNotAllowed),  # US premium rate
        ("+44 909 879 0000", PhoneTypeNotAllowed),  # UK premium rate
        ("+1 800 555 0123", PhoneTypeNotAllowed),  # toll free
        ("+44 20 7946 0018", PhoneTypeNotAllowed),  # UK fixed line
        (None, MalformedInput),
        (33612345678, MalformedInput),
    ],
    ids=repr,
)
def test_rejected_phone_numbers_send_nothing(gate, outbox, number, error):
    with pytest.raises(error):
        gate.start_sms("alice", number, purpose="enroll")
    assert outbox.messages == []


def test_region_allow_and_deny_lists(make_gate, outbox):
    allow = make_gate(Settings(secret_keys=(KEY,), allowed_regions=frozenset({"DE"})))
    with pytest.raises(PhoneRegionNotAllowed):
        allow.start_sms("alice", PHONE, purpose="enroll")
    allow.start_sms("alice", "+4915112345678", purpose="enroll")
    deny = make_gate(Settings(secret_keys=(KEY,), denied_regions=frozenset({"FR"})))
    with pytest.raises(PhoneRegionNotAllowed):
        deny.start_sms("bob", PHONE, purpose="enroll")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subject": None},
        {"subject": ""},
        {"subject": "s" * 10_000},
        {"subject": 7},
        {"purpose": "anything"},
        {"context": ["not", "a", "mapping"]},
        {"context": {"amount": float("nan")}},
        {"context": {"amount": object()}},
        {"context": {"memo": "x" * 10_000}},
        {"context": {1: "non-text key"}},
        {"client_ip": "x" * 10_000},
        {"locale": 12},
        {"summary": "s" * 200},
    ],
    ids=repr,
)
def test_bad_start_arguments_send_nothing(gate, outbox, kwargs):
    arguments = {"subject": "alice", "phone": PHONE, "purpose": "enroll", **kwargs}
    with pytest.raises(MalformedInput):
        gate.start_sms(**arguments)
    assert outbox.messages == []


def test_every_error_is_an_otpgate_error_with_a_stable_code():
    for error_type in OtpgateError.__subclasses__():
        assert error_type.code and error_type.code != OtpgateError.code


class TestContextsNeverRoundAndNeverCrash:
    def test_amounts_that_differ_in_the_28th_digit_differ(self, gate, outbox):
        from decimal import Decimal

        challenge = gate.start_sms(
            "alice",
            PHONE,
            purpose="enroll",
            context={"amount": Decimal("12345678901.123456789012345678")},
        )
        code = outbox.last_code_for(PHONE)
        for near in (Decimal("12345678901.123456789012345679"), "12345678901.12345678901234568"):
            with pytest.raises(ContextMismatch):
                gate.check(challenge.id, code, context={"amount": near})
        gate.check(
            challenge.id, code, context={"amount": Decimal("12345678901.1234567890123456780")}
        )

    @pytest.mark.parametrize(
        "context",
        [
            {"payee": "\ud800"},
            {"\udfff": "x"},
            {"amount": __import__("decimal").Decimal("1E+999999999")},
            {"amount": __import__("decimal").Decimal("1E-1000030")},
            {"amount": 10**100},
            {"é": 1, "e\u0301": 2},
        ],
        ids=repr,
    )
    def test_unrepresentable_contexts_are_malformed(self, gate, outbox, context):
        with pytest.raises(MalformedInput):
            gate.start_sms("alice", PHONE, purpose="enroll", context=context)
        challenge = gate.start_sms("alice", PHONE, purpose="enroll")
        with pytest.raises(MalformedInput):
            gate.check(challenge.id, outbox.last_code_for(PHONE), context=context)
        assert gate.get(challenge.id).attempts_left == 5


@pytest.mark.parametrize("subject", ["\ud800", "line\nbreak", "\x00"], ids=repr)
def test_subjects_that_are_not_printable_text(gate, subject):
    with pytest.raises(MalformedInput):
        gate.totp.enroll(subject)
    with pytest.raises(MalformedInput):
        gate.start_sms(subject, PHONE, purpose="enroll")


def test_totp_near_the_epoch_does_not_crash():
    from otpgate.core.totp import match_step

    settings = Settings(secret_keys=(KEY,))
    assert match_step(b"k" * 20, "123456", 29.0, settings) in (None, 0)


@pytest.mark.parametrize(
    "typed",
    ["+٣٣ ٦ ١٢ ٣٤ ٥٦ ٧٨", "+۳۳ ۶۱۲۳۴۵۶۷۸", "+३३ ६१२३४५६७८", "＋３３ ６１２３４５６７８"],
    ids=repr,
)
def test_phone_numbers_typed_in_other_digits_are_read(gate, outbox, typed):
    gate.start_sms("alice", typed, purpose="enroll")
    assert outbox.last_code_for(PHONE)
