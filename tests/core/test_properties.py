"""Property tests: phone parsing, code parsing, the verifier's approve/refuse decision, and the
canonical form of transaction contexts. Each property is stated in its test's docstring."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from otpgate import (
    InvalidCode,
    LockedOut,
    MalformedInput,
    MaxAttemptsReached,
    OtpgateError,
    OutboxSender,
    PhoneNumber,
    PhoneRejected,
    Settings,
    Verification,
    VerificationFailed,
    Verifier,
    parse_phone,
)
from otpgate.core.codes import clean_numeric_code
from otpgate.core.context import canonical_context

E164 = re.compile(r"\+[1-9]\d{6,14}")
#: Inputs longer than this are refused before anything else (phone.MAX_INPUT_LENGTH, codes).
MAX_INPUT = 64
SETTINGS = Settings()
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)

# -- (a) phone numbers ------------------------------------------------------------------------

#: Text that looks like a phone number: ASCII, fullwidth and Arabic-Indic digits, separators.
PHONEISH = st.from_regex(r"\A[+＋]?[0-9０-９٠-٩ ()\-.x#*+]{0,24}\Z")
#: A plus and digits only: many of these are valid numbers, so the success branch is exercised.
INTERNATIONAL = st.from_regex(r"\A\+[1-9][0-9]{6,16}\Z")
PHONE_INPUT = st.one_of(
    st.text(max_size=MAX_INPUT + 8),
    PHONEISH,
    INTERNATIONAL,
    st.none(),
    st.integers(),
    st.binary(max_size=16),
)
PHONE_SETTINGS = st.sampled_from(
    [SETTINGS, Settings(default_region="FR"), Settings(default_region="US")]
)


def _assert_well_formed(number: PhoneNumber) -> None:
    assert E164.fullmatch(number.e164), number.e164
    assert number.e164.startswith(f"+{number.calling_code}")
    national = number.e164[1 + len(number.calling_code) :]
    # Masked: the calling code, then the last four national digits (two of short numbers).
    shown = 4 if len(national) > 6 else 2
    assert number.masked.startswith(f"+{number.calling_code} ")
    assert re.sub(r"\D", "", number.masked) == number.calling_code + national[-shown:]
    assert str(number) == number.masked
    assert national not in repr(number)


@hypothesis_settings(max_examples=400, deadline=None)
@given(
    raw=PHONE_INPUT,
    region=st.none() | st.sampled_from(REGIONS) | st.text(max_size=3),
    settings=PHONE_SETTINGS,
)
@example(raw="+33612345678", region=None, settings=SETTINGS)
@example(raw="06 12 34 56 78", region="FR", settings=SETTINGS)
@example(raw="+1 900 555 0123", region=None, settings=SETTINGS)  # premium rate
@example(raw="+4930000000000000", region=None, settings=SETTINGS)  # 16 digits, fixed line
@example(raw="+33\u00a0６１２３４５６７８", region=None, settings=SETTINGS)
def test_parse_phone_returns_e164_or_raises_phone_rejected(
    raw: object, region: str | None, settings: Settings
) -> None:
    """Any input gives a well-formed, masked, idempotent number or a PhoneRejected; nothing else."""
    rejected: PhoneRejected | None = None
    try:
        number = parse_phone(raw, settings, region=region)
    except PhoneRejected as error:
        rejected = error
    if rejected is not None:
        assert rejected.reason in {"invalid", "region", "international_network", "number_type"}
        return
    assert isinstance(number, PhoneNumber)
    _assert_well_formed(number)
    assert number.number_type in settings.allowed_number_types
    assert parse_phone(number.e164, settings) == number
    assert parse_phone(number.e164, settings, region=region) == number
    assert parse_phone(f" {number.e164} ", settings) == number


def _example_mobile_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    examples = []
    for region in REGIONS:
        number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if number is not None:
            examples.append((region, number))
    return examples


EXAMPLE_MOBILES = _example_mobile_numbers()


def test_every_regions_example_mobile_number_is_accepted() -> None:
    """libphonenumber's example mobile number of every region parses under default Settings:
    written in E.164, internationally, and nationally with the region given."""
    assert len(EXAMPLE_MOBILES) >= 200
    failures = []
    for region, example_number in EXAMPLE_MOBILES:
        e164 = phonenumbers.format_number(example_number, PhoneNumberFormat.E164)
        national = phonenumbers.format_number(example_number, PhoneNumberFormat.NATIONAL)
        spaced = phonenumbers.format_number(example_number, PhoneNumberFormat.INTERNATIONAL)
        try:
            number = parse_phone(e164, SETTINGS)
            _assert_well_formed(number)
            assert number.e164 == e164
            assert number.calling_code == str(example_number.country_code)
            assert number.number_type in {"MOBILE", "FIXED_LINE_OR_MOBILE"}
            assert parse_phone(spaced, SETTINGS) == number
            assert parse_phone(national, SETTINGS, region=region) == number
            assert parse_phone(number.e164, SETTINGS) == number
        except (OtpgateError, AssertionError) as error:
            failures.append((region, e164, repr(error)))
    assert failures == []


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.sampled_from(EXAMPLE_MOBILES), st.sampled_from(["-", " ", ".", "", "\u00a0"]))
def test_example_mobile_numbers_survive_separators(
    case: tuple[str, phonenumbers.PhoneNumber], separator: str
) -> None:
    """The same number with its digits grouped by any separator parses to the same E.164."""
    _region, example_number = case
    e164 = phonenumbers.format_number(example_number, PhoneNumberFormat.E164)
    digits = e164[1:]
    grouped = "+" + separator.join(digits[i : i + 3] for i in range(0, len(digits), 3))
    assert parse_phone(grouped, SETTINGS).e164 == e164


def test_phone_policy_refusals_are_typed() -> None:
    """The policy branches the property test cannot reach by chance, checked by hand."""
    with pytest.raises(PhoneRejected) as caught:
        parse_phone("+33612345678", Settings(denied_regions=frozenset({"FR"})))
    assert caught.value.reason == "region"
    with pytest.raises(PhoneRejected) as caught:
        parse_phone("+33612345678", Settings(allowed_regions=frozenset({"DE"})))
    assert caught.value.reason == "region"
    with pytest.raises(PhoneRejected) as caught:
        parse_phone("+19005550123", SETTINGS)  # US premium rate
    assert caught.value.reason == "number_type"
    with pytest.raises(PhoneRejected) as caught:
        parse_phone("+3361234567", SETTINGS)  # one digit short
    assert caught.value.reason == "invalid"


# -- (b) code parsing ---------------------------------------------------------------------------

DIGITS = st.integers(min_value=6, max_value=10)
#: White space that ``str.strip`` removes: ASCII, no-break and other Unicode spaces.
PADDING = st.text(st.sampled_from(" \t\r\n\x0b\x0c\u00a0\u2003\u3000"), max_size=8)
ASCII_CODE = st.text(st.sampled_from("0123456789"), min_size=1, max_size=12)
NON_ASCII_DIGIT = st.characters(categories=["Nd"]).filter(lambda char: not char.isascii())


def _is_code(value: object, digits: int) -> bool:
    """The oracle: a string whose stripped form is exactly ``digits`` decimal digits of any
    script (category Nd)."""
    return (
        isinstance(value, str)
        and len(value) <= MAX_INPUT
        and len(value.strip()) == digits
        and all(unicodedata.category(char) == "Nd" for char in value.strip())
    )


def _ascii(value: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in value.strip())


@hypothesis_settings(max_examples=300)
@given(digits=DIGITS, code=ASCII_CODE, before=PADDING, after=PADDING)
@example(digits=6, code="012345", before=" ", after="\n")
@example(digits=10, code="0000000000", before="", after="")
def test_clean_numeric_code_accepts_padded_ascii_digits_of_the_right_length(
    digits: int, code: str, before: str, after: str
) -> None:
    """Exactly ``digits`` ASCII digits, with white space around, give those digits."""
    value = before + code + after
    if len(code) == digits:
        assert clean_numeric_code(value, digits) == code
    else:
        with pytest.raises(MalformedInput):
            clean_numeric_code(value, digits)


@st.composite
def _code_with_non_ascii_digit(draw: st.DrawFn) -> tuple[int, str]:
    digits = draw(DIGITS)
    code = list(draw(st.text(st.sampled_from("0123456789"), min_size=digits, max_size=digits)))
    for index in draw(st.sets(st.integers(0, digits - 1), min_size=1)):
        code[index] = draw(NON_ASCII_DIGIT)
    return digits, "".join(code)


@hypothesis_settings(max_examples=300)
@given(case=_code_with_non_ascii_digit())
@example(case=(6, "١٢٣٤٥٦"))  # Arabic-Indic
@example(case=(6, "۱۲۳۴۵۶"))  # Persian
@example(case=(6, "１２３４５６"))  # fullwidth
@example(case=(6, "12345६"))  # one Devanagari digit
def test_clean_numeric_code_reads_any_decimal_digit_as_ascii(case: tuple[int, str]) -> None:
    """Other scripts' decimal digits (category Nd) are read as the ASCII digit of the same
    value, so a code typed on any keyboard has one canonical form."""
    digits, value = case
    expected = "".join(str(unicodedata.decimal(char)) for char in value)
    assert clean_numeric_code(value, digits) == expected


@hypothesis_settings(max_examples=300)
@given(
    digits=DIGITS,
    code=st.text(st.characters(categories=["No"]).filter(str.isdigit), min_size=6, max_size=10),
)
@example(digits=6, code="¹²³⁴⁵⁶")
@example(digits=6, code="①②③④⑤⑥")
def test_clean_numeric_code_refuses_digits_that_are_not_decimal(digits: int, code: str) -> None:
    """Superscripts and circled digits (``str.isdigit`` but not decimal) are refused."""
    with pytest.raises(MalformedInput):
        clean_numeric_code(code, digits)


@hypothesis_settings(max_examples=300)
@given(
    digits=DIGITS,
    code=st.text(st.sampled_from("0123456789"), min_size=2, max_size=10),
    separator=st.sampled_from([" ", "-", "\u2010", "\u2212", ".", "_", "\u200b", "\t"]),
    position=st.integers(min_value=1),
)
def test_clean_numeric_code_refuses_inner_separators(
    digits: int, code: str, separator: str, position: int
) -> None:
    """A space, dash or anything else between the digits is refused, whatever the length."""
    cut = 1 + position % (len(code) - 1)
    with pytest.raises(MalformedInput):
        clean_numeric_code(code[:cut] + separator + code[cut:], digits)


@hypothesis_settings(max_examples=500)
@given(
    digits=DIGITS,
    value=st.one_of(
        st.text(max_size=MAX_INPUT + 16),
        st.text(st.characters(categories=["Nd", "Zs", "Pd"]), max_size=14),
        st.from_regex(r"\A\s*[0-9]{5,11}\s*\Z"),
        st.none(),
        st.integers(),
        st.floats(),
        st.binary(max_size=12),
        st.lists(st.sampled_from("0123456789"), max_size=10),
    ),
)
@example(digits=6, value=123456)
@example(digits=6, value=b"123456")
@example(digits=6, value=["1", "2", "3", "4", "5", "6"])
@example(digits=6, value="1" * 10_000)
@example(digits=6, value=" " * 60 + "123456")
def test_clean_numeric_code_accepts_exactly_the_oracle(digits: int, value: object) -> None:
    """For any value: accepted (as its stripped digits, in ASCII) iff it is a code; else
    MalformedInput."""
    if _is_code(value, digits):
        assert isinstance(value, str)
        assert clean_numeric_code(value, digits) == _ascii(value)
    else:
        with pytest.raises(MalformedInput):
            clean_numeric_code(value, digits)


# -- (c) the verifier approves the real code and nothing else -----------------------------------

PHONE = "+33612345678"
START = 1_800_000_000.0


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def _fullwidth(code: str) -> str:
    return "".join(chr(0xFF10 + int(char)) for char in code)


def _arabic_indic(code: str) -> str:
    return "".join(chr(0x0660 + int(char)) for char in code)


def _bump(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


#: Near misses of the real code (the real code itself among them, wrapped in white space).
MUTATIONS: list[Callable[[str], object]] = [
    _bump,
    lambda code: _bump(code[::-1])[::-1],
    _fullwidth,
    _arabic_indic,
    lambda code: code[:3] + " " + code[3:],
    lambda code: code[:3] + "-" + code[3:],
    lambda code: code + "0",
    lambda code: code[:-1],
    lambda code: "0" + code[:-1],
    lambda code: code[1:] + code[0],
    lambda code: code[::-1],
    lambda code: str(int(code)),
    lambda code: int(code),
    lambda code: code.encode(),
    lambda code: f"\u200b{code}",
    lambda code: f" {code}\n",
    lambda code: code,
]

ATTEMPT = st.one_of(
    st.sampled_from(MUTATIONS),
    st.text(max_size=MAX_INPUT + 8),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(st.characters(categories=["Nd"]), min_size=6, max_size=6),
    st.none() | st.integers() | st.binary(max_size=8),
)


def _start() -> tuple[Verifier, str, str]:
    """A fresh verifier and a started challenge: (gate, challenge id, the code sent)."""
    outbox = OutboxSender()
    gate = Verifier(Settings(secret_keys=("k" * 32,)), sender=outbox, clock=_Clock())
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.messages[-1].code
    assert code is not None and len(code) == 6
    return gate, challenge.id, code


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attempts=st.lists(ATTEMPT, max_size=7))
def test_only_the_real_code_approves(attempts: list[object]) -> None:
    """Before the real code, every other value is refused with an OtpgateError (malformed ones
    without using an attempt); the real code then approves once, unless five wrong codes ended
    the challenge first. Each example starts a fresh challenge."""
    gate, challenge_id, code = _start()
    wrong = 0
    approved = False
    for attempt in attempts:
        value = attempt(code) if callable(attempt) else attempt
        real = _is_code(value, 6) and _ascii(value) == code  # type: ignore[arg-type]
        alive = not approved and wrong < SETTINGS.max_attempts
        if real and alive:
            verification = gate.check(challenge_id, value)  # type: ignore[arg-type]
            assert isinstance(verification, Verification)
            assert (verification.subject, verification.purpose) == ("alice", "enroll")
            approved = True
            continue
        with pytest.raises(OtpgateError) as caught:
            gate.check(challenge_id, value)  # type: ignore[arg-type]
        if not alive:
            continue
        if _is_code(value, 6):
            wrong += 1
            expected: type[OtpgateError] | tuple[type[OtpgateError], ...] = (
                InvalidCode if wrong < SETTINGS.max_attempts else (MaxAttemptsReached, LockedOut)
            )
            assert isinstance(caught.value, expected)
        else:
            assert isinstance(caught.value, MalformedInput)
    # Finally the real code: approved iff the challenge is still open.
    if approved or wrong >= SETTINGS.max_attempts:
        with pytest.raises(OtpgateError) as caught:
            gate.check(challenge_id, code)
        assert isinstance(caught.value, (VerificationFailed, LockedOut))
    else:
        assert gate.check(challenge_id, code).factor == "sms"
        with pytest.raises(VerificationFailed):  # and only once
            gate.check(challenge_id, code)


# -- (d) canonical transaction context ----------------------------------------------------------

#: NFC text without lone surrogates. (Keys that are NFC-equal would merge: reported.)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12).map(
    lambda text: unicodedata.normalize("NFC", text)
)
KEYS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=10).filter(
    lambda key: unicodedata.is_normalized("NFC", key)
)
#: Below 28 significant digits: Decimal's default context rounds beyond that (reported).
INTEGERS = st.integers(min_value=-(10**26), max_value=10**26)
DECIMALS = st.decimals(
    min_value=Decimal(-(10**15)), max_value=Decimal(10**15), places=4, allow_nan=False
)
#: Rounded, so a float's decimal form stays short (contexts are capped at 4 kB).
FLOATS = st.floats(min_value=-1e15, max_value=1e15, allow_nan=False).map(lambda x: round(x, 6))
NUMBERS = st.one_of(INTEGERS, DECIMALS, FLOATS)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return inner | st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3)


#: Two levels of lists and mappings below the context itself (the depth limit is four).
VALUES = _containers(_containers(SCALARS))
CONTEXTS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=6)


def _reorder(value: Any, order: Callable[[list[str]], list[str]]) -> Any:
    """``value`` with every mapping's keys in ``order``, recursively."""
    if isinstance(value, dict):
        return {key: _reorder(value[key], order) for key in order(list(value))}
    if isinstance(value, list):
        return [_reorder(item, order) for item in value]
    return value


@hypothesis_settings(max_examples=200)
@given(context=CONTEXTS, data=st.data())
def test_canonical_context_ignores_key_order(context: dict[str, Any], data: st.DataObject) -> None:
    permutation = data.draw(st.permutations(list(context)))
    shuffled = {key: context[key] for key in permutation}
    assert canonical_context(shuffled) == canonical_context(context)
    assert canonical_context(_reorder(context, lambda keys: keys[::-1])) == canonical_context(
        context
    )
    assert canonical_context(_reorder(context, sorted)) == canonical_context(context)


@hypothesis_settings(max_examples=200)
@given(
    whole=st.integers(min_value=-(2**53), max_value=2**53),
    cents=st.integers(min_value=0, max_value=99),
    key=KEYS,
)
@example(whole=10, cents=0, key="amount")
@example(whole=0, cents=0, key="amount")
def test_canonical_context_treats_equal_numbers_alike(whole: int, cents: int, key: str) -> None:
    """``10``, ``10.0`` and ``Decimal("10.00")`` (and any exact writing of one number) agree."""
    if cents == 0:
        forms: list[object] = [whole, float(whole), Decimal(f"{whole}.00"), Decimal(whole)]
        if whole == 0:
            forms += [-0.0, Decimal("-0.00")]
    else:
        text = f"{'-' if whole < 0 else ''}{abs(whole)}.{cents:02d}"
        forms = [Decimal(text), Decimal(text + "000")]
        if abs(whole) < 2**40:
            forms.append(float(text))  # its repr is exactly ``text`` (15 digits or fewer)
    assert len({canonical_context({key: form}) for form in forms}) == 1
    nested = {canonical_context({"lines": [{key: form}]}) for form in forms}
    assert len(nested) == 1
    assert canonical_context({"amount": 10}) == canonical_context({"amount": 10.0})
    assert canonical_context({"amount": 10.0}) == canonical_context({"amount": Decimal("10.00")})


def _same_value(a: object, b: object) -> bool:
    """The documented equivalence: numbers by value, text by NFC, containers item-wise."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return _decimal(a) == _decimal(b)
    if isinstance(a, str) and isinstance(b, str):
        return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    return False


def _decimal(number: int | float | Decimal) -> Decimal:
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def _number_and_text(a: object, b: object) -> bool:
    """One is a number and the other text: numbers are written as decimal strings (reported)."""
    kinds = {type(value) for value in (a, b)}
    return str in kinds and bool(kinds & {int, float, Decimal})


@hypothesis_settings(max_examples=300)
@given(context=CONTEXTS, data=st.data())
@example(context={"amount": 10, "currency": "EUR"}, data=None)
def test_canonical_context_changes_with_any_value(
    context: dict[str, Any], data: st.DataObject | None
) -> None:
    """Changing any one value (at the top or nested) changes the canonical form."""
    if data is None:  # the explicit example: each change by hand
        changes = [("amount", 11), ("amount", 10.01), ("amount", -10), ("currency", "EUR ")]
        for key, new in changes:
            assert canonical_context({**context, key: new}) != canonical_context(context)
        return
    key = data.draw(st.sampled_from(sorted(context)))
    old = context[key]
    new = data.draw(VALUES | NUMBERS)
    assume(not _same_value(old, new) and not _number_and_text(old, new))
    assert canonical_context({**context, key: new}) != canonical_context(context)
    # A changed key (value kept) changes it too.
    other = data.draw(KEYS.filter(lambda candidate: candidate not in context))
    renamed = {other if name == key else name: value for name, value in context.items()}
    assert canonical_context(renamed) != canonical_context(context)


@hypothesis_settings(max_examples=200)
@given(context=CONTEXTS, data=st.data())
def test_canonical_context_changes_with_a_nested_number(
    context: dict[str, Any], data: st.DataObject
) -> None:
    """An amount buried in a list inside a mapping still counts, to the last decimal place."""
    amount = data.draw(DECIMALS)
    step = data.draw(st.sampled_from([Decimal("0.0001"), Decimal(1), Decimal(-1)]))
    with_amount = {**context, "lines": [{"amount": amount}]}
    changed = {**context, "lines": [{"amount": amount + step}]}
    assert canonical_context(with_amount) != canonical_context(changed)
    assert canonical_context(with_amount) == canonical_context(
        {**context, "lines": ({"amount": amount.normalize()},)}
    )


@hypothesis_settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(REGIONS))
def test_masking_finds_the_calling_code_like_phonenumbers(region: str) -> None:
    from otpgate.core.phone import mask

    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        return
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    assert mask(e164).startswith(f"+{example.country_code} ")
