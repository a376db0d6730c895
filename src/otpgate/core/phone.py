"""Phone numbers: parse to E.164 with phonenumbers, apply the region and type policy, mask."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from .bounds import INTERNATIONAL_NETWORKS
from .codes import ascii_digits
from .errors import (
    InvalidPhoneNumber,
    PhoneNetworkNotAllowed,
    PhoneRegionNotAllowed,
    PhoneTypeNotAllowed,
)
from .settings import Settings

#: Longer input is refused before parsing (ITU E.164 numbers have at most 15 digits).
MAX_INPUT_LENGTH = 64

_CALLING_CODES = frozenset(COUNTRY_CODE_TO_REGION_CODE)

_TYPE_NAMES = {
    value: name
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


@dataclass(frozen=True)
class PhoneNumber:
    """A parsed, policy-checked number. ``str()`` of it is the masked form, never the number."""

    e164: str
    region: str
    calling_code: str
    number_type: str

    @property
    def masked(self) -> str:
        return mask(self.e164, self.calling_code)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"PhoneNumber({self.masked!r}, region={self.region!r})"


def mask(e164: str, calling_code: str | None = None) -> str:
    """``+15550100123`` → ``+1 ••• ••• 0123``: the country code and the last four digits
    (the last two of numbers with at most six national digits)."""
    digits = e164.lstrip("+")
    if calling_code is None:
        calling_code = _calling_code_of(e164)
    national = digits[len(calling_code) :]
    shown = 4 if len(national) > 6 else 2  # short numbers keep most digits hidden too
    hidden = max(1, len(national) - shown)
    groups = " ".join("•••" for _ in range((hidden + 2) // 3))
    return f"+{calling_code} {groups} {national[-shown:]}"


def _calling_code_of(e164: str) -> str:
    """The country calling code at the start of ``e164``. Calling codes are prefix-free (ITU-T
    E.164), so the first of the 1-, 2- and 3-digit prefixes that is one is the one."""
    digits = e164.lstrip("+")
    for length in (1, 2, 3):
        if digits[:length].isdigit() and int(digits[:length]) in _CALLING_CODES:
            return digits[:length]
    return digits[:1]


def parse_phone(raw: object, settings: Settings, *, region: str | None = None) -> PhoneNumber:
    """Parse ``raw`` and apply the policy; raise a :class:`PhoneRejected` subclass otherwise.

    Numbers of the international networks (region ``001``) are refused unless
    ``settings.allow_international_networks``; then the region lists apply to them as ``001``.

    ``region`` (or ``settings.default_region``) lets users type national numbers. Other
    scripts' decimal digits (and the fullwidth plus) are read as ASCII ones, as for codes;
    beyond them only printable ASCII and spaces (no-break ones too) are read: phonenumbers
    would skip control characters and read some other characters as digits.
    """
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumber()
    raw = ascii_digits(raw).replace("\uff0b", "+")
    if not all(" " <= char <= "~" or unicodedata.category(char) == "Zs" for char in raw):
        raise InvalidPhoneNumber()  # other scripts' digits, NUL and other controls
    try:
        number = phonenumbers.parse(raw, region or settings.default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber()
    number_region = phonenumbers.region_code_for_number(number) or "ZZ"
    if number_region == INTERNATIONAL_NETWORKS and not settings.allow_international_networks:
        raise PhoneNetworkNotAllowed()
    if settings.allowed_regions and number_region not in settings.allowed_regions:
        raise PhoneRegionNotAllowed()
    if number_region in settings.denied_regions:
        raise PhoneRegionNotAllowed()
    type_name = _TYPE_NAMES.get(phonenumbers.number_type(number), "UNKNOWN")
    if type_name not in settings.allowed_number_types:
        raise PhoneTypeNotAllowed()
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) > 16:  # "+" and at most 15 digits (ITU-T E.164)
        raise InvalidPhoneNumber()
    return PhoneNumber(
        e164=e164,
        region=number_region,
        calling_code=str(number.country_code),
        number_type=type_name,
    )
