"""HOTP and TOTP against the RFCs' published vectors, and against pyotp for everything else.

RFC 6238 Appendix B gives one seed per hash: the test vectors are computed with the ASCII
string "1234567890" repeated to the hash's output length (20, 32 and 64 bytes), not with the
20-byte SHA1 seed for all three, as some implementations (and errata) got wrong.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pyotp
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from otpgate.core.settings import Settings
from otpgate.core.totp import (
    hotp,
    match_step,
    new_secret,
    provisioning_uri,
    qr_svg,
    secret_key_bytes,
    totp_step,
)

# -- RFC 4226 Appendix D ----------------------------------------------------------------------

RFC4226_SECRET = b"12345678901234567890"

#: (counter, truncated 31-bit value, 6-digit HOTP), Appendix D.
RFC4226_VECTORS = [
    (0, 1284755224, "755224"),
    (1, 1094287082, "287082"),
    (2, 137359152, "359152"),
    (3, 1726969429, "969429"),
    (4, 1640338314, "338314"),
    (5, 868254676, "254676"),
    (6, 1918287922, "287922"),
    (7, 82162583, "162583"),
    (8, 673399871, "399871"),
    (9, 645520489, "520489"),
]


def test_rfc4226_secret_is_the_published_one() -> None:
    assert len(RFC4226_SECRET) == 20
    assert RFC4226_SECRET.hex() == "3132333435363738393031323334353637383930"


@pytest.mark.parametrize(("counter", "truncated", "expected"), RFC4226_VECTORS)
def test_rfc4226_hotp(counter: int, truncated: int, expected: str) -> None:
    assert hotp(RFC4226_SECRET, counter) == expected
    assert hotp(RFC4226_SECRET, counter, digits=6, algorithm="sha1") == expected
    # Ten digits keep the whole 31-bit truncated value (zero-padded): Appendix D's "Decimal".
    assert hotp(RFC4226_SECRET, counter, digits=10) == str(truncated).zfill(10)


# -- RFC 6238 Appendix B ----------------------------------------------------------------------

RFC6238_SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}

#: (unix time, {algorithm: 8-digit TOTP}), Appendix B, period 30, T0 0.
RFC6238_VECTORS = [
    (59, {"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}),
    (1111111109, {"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}),
    (1111111111, {"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}),
    (1234567890, {"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}),
    (2000000000, {"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}),
    (20000000000, {"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}),
]

#: (unix time, T as a 16-hex-digit counter), Appendix B's second column.
RFC6238_STEPS = [
    (59, "0000000000000001"),
    (1111111109, "00000000023523EC"),
    (1111111111, "00000000023523ED"),
    (1234567890, "000000000273EF07"),
    (2000000000, "0000000003F940AA"),
    (20000000000, "0000000027BC86AA"),
]

RFC6238_CASES = [
    pytest.param(algorithm, timestamp, codes[algorithm], id=f"{algorithm}-{timestamp}")
    for timestamp, codes in RFC6238_VECTORS
    for algorithm in RFC6238_SEEDS
]


def test_rfc6238_seeds_have_the_hash_output_length() -> None:
    for algorithm, seed in RFC6238_SEEDS.items():
        assert len(seed) == hashlib.new(algorithm.lower()).digest_size
        assert seed == (b"1234567890" * 7)[: len(seed)]


@pytest.mark.parametrize(("timestamp", "hex_step"), RFC6238_STEPS)
def test_rfc6238_time_steps(timestamp: int, hex_step: str) -> None:
    assert totp_step(timestamp) == int(hex_step, 16)
    assert totp_step(timestamp, 30) == int(hex_step, 16)
    assert totp_step(float(timestamp) + 0.999) == int(hex_step, 16)


def _rfc_settings(algorithm: str, window: int = 0) -> Settings:
    return Settings(totp_digits=8, totp_algorithm=algorithm, totp_window=window)


@pytest.mark.parametrize(("algorithm", "timestamp", "expected"), RFC6238_CASES)
def test_rfc6238_hotp_of_time_step(algorithm: str, timestamp: int, expected: str) -> None:
    key = RFC6238_SEEDS[algorithm]
    for name in (algorithm, algorithm.lower()):
        assert hotp(key, totp_step(timestamp), digits=8, algorithm=name) == expected


@pytest.mark.parametrize(("algorithm", "timestamp", "expected"), RFC6238_CASES)
def test_rfc6238_match_step(algorithm: str, timestamp: int, expected: str) -> None:
    key = RFC6238_SEEDS[algorithm]
    step = timestamp // 30
    exact = _rfc_settings(algorithm)
    assert match_step(key, expected, timestamp, exact) == step
    # Window 0: a step earlier or later the code is no longer accepted ...
    assert match_step(key, expected, timestamp + 30, exact) is None
    assert match_step(key, expected, timestamp - 30, exact) is None
    # ... with window 1 it is, and the step found is still the code's own.
    assert match_step(key, expected, timestamp + 30, _rfc_settings(algorithm, 1)) == step
    if step >= 2:  # (near the epoch the window would reach before step 0)
        assert match_step(key, expected, timestamp - 30, _rfc_settings(algorithm, 1)) == step


@pytest.mark.parametrize(("algorithm", "timestamp", "expected"), RFC6238_CASES)
def test_rfc6238_wrong_codes_do_not_match(algorithm: str, timestamp: int, expected: str) -> None:
    key = RFC6238_SEEDS[algorithm]
    settings = _rfc_settings(algorithm, window=1)
    off_by_one = expected[:-1] + str((int(expected[-1]) + 1) % 10)
    assert match_step(key, off_by_one, timestamp, settings) is None
    assert match_step(key, expected[:6], timestamp, settings) is None  # 6 of the 8 digits
    other_seed = next(seed for name, seed in RFC6238_SEEDS.items() if name != algorithm)
    assert match_step(other_seed, expected, timestamp, _rfc_settings(algorithm)) is None


@pytest.mark.parametrize(("algorithm", "timestamp", "expected"), RFC6238_CASES)
def test_rfc6238_through_base32_secret(algorithm: str, timestamp: int, expected: str) -> None:
    """The seed as a base32 secret (what apps store) gives the same codes, here and in pyotp."""
    secret = base64.b32encode(RFC6238_SEEDS[algorithm]).decode()
    key = secret_key_bytes(secret.rstrip("=").lower())
    assert key == RFC6238_SEEDS[algorithm]
    assert match_step(key, expected, timestamp, _rfc_settings(algorithm)) == timestamp // 30
    digest = getattr(hashlib, algorithm.lower())
    assert pyotp.TOTP(secret, digits=8, digest=digest).at(timestamp) == expected


# -- agreement with pyotp ---------------------------------------------------------------------

ALGORITHMS = st.sampled_from(["SHA1", "SHA256", "SHA512"])
#: From two periods after the epoch (pyotp refuses negative counters) to year 9999.
TIMES = st.integers(min_value=2 * 120, max_value=253_402_300_799 - 120) | st.floats(
    min_value=2 * 120, max_value=253_402_300_799 - 120, allow_nan=False, allow_infinity=False
)


@st.composite
def base32_secrets(draw: st.DrawFn) -> str:
    """A base32 secret as apps and pyotp write it: padded or not, upper or lower case."""
    raw = draw(st.binary(min_size=20, max_size=64))  # 160 bits, the RFC's minimum
    text = base64.b32encode(raw).decode()
    if draw(st.booleans()):
        text = text.rstrip("=")
    return text.lower() if draw(st.booleans()) else text


def _pyotp(secret: str, settings: Settings) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret,
        digits=settings.totp_digits,
        interval=settings.totp_period,
        digest=getattr(hashlib, settings.totp_algorithm.lower()),
    )


@hypothesis_settings(max_examples=200, deadline=None)
@given(secret=base32_secrets(), timestamp=TIMES)
@example(secret=base64.b32encode(RFC4226_SECRET).decode(), timestamp=1111111111)
def test_default_totp_agrees_with_pyotp(secret: str, timestamp: float) -> None:
    """Defaults (SHA1, 6 digits, 30 s, ±1 step) against pyotp's defaults."""
    key = secret_key_bytes(secret)
    settings = Settings()
    reference = pyotp.TOTP(secret)
    assert hotp(key, totp_step(timestamp)) == reference.at(timestamp)
    for offset in (-2, -1, 0, 1, 2):
        code = reference.at(timestamp, counter_offset=offset)
        accepted = reference.verify(code, for_time=timestamp, valid_window=1)
        assert accepted == (abs(offset) <= 1 or _collides(reference, code, timestamp))
        found = match_step(key, code, timestamp, settings)
        assert (found is not None) == accepted
        if found is not None:
            assert abs(found - totp_step(timestamp)) <= 1
            assert hotp(key, found) == code


def _collides(reference: pyotp.TOTP, code: str, timestamp: float) -> bool:
    """True when ``code`` also happens to be the value of a step inside the ±1 window."""
    return any(reference.at(timestamp, counter_offset=i) == code for i in (-1, 0, 1))


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    secret=base32_secrets(),
    timestamp=TIMES,
    algorithm=ALGORITHMS,
    digits=st.integers(min_value=6, max_value=8),
    period=st.integers(min_value=15, max_value=120),
    window=st.integers(min_value=0, max_value=2),
    guess=st.integers(min_value=0, max_value=10**10 - 1),
)
def test_totp_agrees_with_pyotp_for_every_setting(
    secret: str,
    timestamp: float,
    algorithm: str,
    digits: int,
    period: int,
    window: int,
    guess: int,
) -> None:
    settings = Settings(
        totp_algorithm=algorithm, totp_digits=digits, totp_period=period, totp_window=window
    )
    key = secret_key_bytes(secret)
    reference = _pyotp(secret, settings)
    step = totp_step(timestamp, period)
    assert step == reference.timecode(timestamp)
    assert hotp(key, step, digits=digits, algorithm=algorithm.lower()) == reference.at(timestamp)
    codes = [reference.at(timestamp, counter_offset=i) for i in range(-2, 3)]
    codes.append(str(guess % 10**digits).zfill(digits))
    for code in codes:
        found = match_step(key, code, timestamp, settings)
        assert (found is not None) == reference.verify(
            code, for_time=timestamp, valid_window=window
        )
        if found is not None:
            assert abs(found - step) <= window
            assert reference.generate_otp(found) == code


# -- provisioning URI and QR code ---------------------------------------------------------------

#: Printable text as people name things; no control characters or lone surrogates.
NAMES = st.text(
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=40
).filter(lambda text: text.strip() != "")


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    brand=NAMES,
    account=NAMES,
    algorithm=ALGORITHMS,
    digits=st.integers(min_value=6, max_value=8),
    period=st.integers(min_value=15, max_value=120),
    secret_bytes=st.integers(min_value=20, max_value=64),
)
@example(
    brand="ACME Bank",
    account="alice@example.com",
    algorithm="SHA1",
    digits=6,
    period=30,
    secret_bytes=20,
)
@example(
    brand="A:B & C",
    account="user:42/?#%",
    algorithm="SHA512",
    digits=8,
    period=60,
    secret_bytes=64,
)
def test_provisioning_uri_round_trips_through_pyotp(
    brand: str, account: str, algorithm: str, digits: int, period: int, secret_bytes: int
) -> None:
    settings = Settings(
        brand=brand,
        totp_algorithm=algorithm,
        totp_digits=digits,
        totp_period=period,
        totp_secret_bytes=secret_bytes,
    )
    secret = new_secret(settings)
    assert len(secret_key_bytes(secret)) >= secret_bytes
    uri = provisioning_uri(secret, account, settings)
    assert uri.startswith("otpauth://totp/")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret
    assert parsed.issuer == brand
    assert parsed.name == account
    assert parsed.digits == digits
    assert parsed.interval == period
    assert parsed.digest().name == algorithm.lower()
    # And the parsed generator makes the codes otpgate accepts.
    now = 1_700_000_000
    code = parsed.at(now)
    assert match_step(secret_key_bytes(secret), code, now, settings) == totp_step(now, period)


SVG = "{http://www.w3.org/2000/svg}"


def test_qr_svg_is_well_formed_xml_with_a_title() -> None:
    uri = provisioning_uri(new_secret(Settings()), "alice@example.com", Settings(brand="ACME"))
    svg = qr_svg(uri)
    root = ET.fromstring(svg)  # raises ParseError unless well-formed
    assert root.tag == f"{SVG}svg"
    titles = root.findall(f"{SVG}title")
    assert [title.text for title in titles] == ["Authenticator app set-up code"]
    assert root.find(f"{SVG}path") is not None
    assert "otpauth" not in svg  # the URI (and its secret) is only in the modules, not as text
    assert "<?xml" not in svg  # embeddable inline in HTML


def test_qr_svg_escapes_its_title() -> None:
    root = ET.fromstring(qr_svg("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", title='A & B <"c">'))
    assert root.findtext(f"{SVG}title") == 'A & B <"c">'
