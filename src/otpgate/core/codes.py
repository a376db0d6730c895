"""One-time codes: generation with ``secrets`` and strict parsing of what users type.

Users type codes on keyboards of their own script: every Unicode decimal digit (category Nd:
Arabic-Indic, Persian, Devanagari, fullwidth...) is read as its ASCII digit first, once, here,
so a code has one canonical form. Anything else that is not ASCII (superscripts, letters,
invisible characters) is refused as MalformedInput, which uses up no attempt.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from .errors import MalformedInput

#: Crockford's base32: no I, L, O, U, so codes read aloud or typed by hand survive.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CODE_LENGTH = 12  # 60 bits
_RECOVERY_GROUP = 4
_RECOVERY_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RECOVERY_INPUT = re.compile(r"[0-9A-Za-z]{4}(?:[- ]?[0-9A-Za-z]{4}){2}", re.ASCII)
_MAX_INPUT = 64
#: Recovery codes imported from another library (django-otp's static tokens) keep their own
#: format: digested under this label, compared lower-case without separators.
IMPORTED_RECOVERY = "recovery-imported"
_IMPORTED_INPUT = re.compile(r"[0-9a-z]{8,10}", re.ASCII)


def ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit (category Nd) replaced by its ASCII digit;
    every other character is kept as it is (the caller's own check refuses it)."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(char)) if unicodedata.category(char) == "Nd" else char
        for char in text
    )


def generate_numeric_code(digits: int) -> str:
    """A uniformly random code of ``digits`` decimal digits, leading zeros kept."""
    return str(secrets.randbelow(10**digits)).zfill(digits)


def clean_numeric_code(value: object, digits: int) -> str:
    """Return ``value`` as a code of exactly ``digits`` ASCII digits, or raise MalformedInput.

    Surrounding white space is dropped (pasted codes) and other scripts' decimal digits are
    read as ASCII ones (:func:`ascii_digits`); anything else that is not exactly the digits is
    refused without using up an attempt.
    """
    if not isinstance(value, str) or len(value) > _MAX_INPUT:
        raise MalformedInput(f"Enter the {digits}-digit code.")
    code = ascii_digits(value.strip())
    if len(code) != digits or not code.isascii() or not code.isdigit():
        raise MalformedInput(f"Enter the {digits}-digit code.")
    return code


def generate_recovery_code() -> str:
    """A 60-bit recovery code shown as ``XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return format_recovery_code(raw)


def format_recovery_code(canonical: str) -> str:
    step = _RECOVERY_GROUP
    return "-".join(canonical[i : i + step] for i in range(0, len(canonical), step))


def clean_recovery_code(value: object) -> str:
    """The canonical form (upper case, no separators, O→0, I/L→1), or MalformedInput."""
    if not isinstance(value, str) or len(value) > _MAX_INPUT:
        raise MalformedInput("Enter one of your recovery codes.")
    text = ascii_digits(value.strip())
    if not _RECOVERY_INPUT.fullmatch(text):
        raise MalformedInput("Enter one of your recovery codes.")
    canonical = re.sub(r"[- ]", "", text).upper().translate(_RECOVERY_TYPOS)
    if any(char not in RECOVERY_ALPHABET for char in canonical):
        raise MalformedInput("Enter one of your recovery codes.")
    return canonical


def clean_imported_code(value: object) -> str | None:
    """An imported recovery code's canonical form (lower case, no spaces or hyphens: 8 to 10
    letters and digits; django-otp's static tokens have 8, otpgate's own codes 12), or None
    if ``value`` cannot be one. Such codes are checked by their digest under
    :data:`IMPORTED_RECOVERY`."""
    if not isinstance(value, str) or len(value) > _MAX_INPUT:
        return None
    canonical = re.sub(r"[- ]", "", ascii_digits(value.strip())).lower()
    return canonical if _IMPORTED_INPUT.fullmatch(canonical) else None
