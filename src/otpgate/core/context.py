"""Transaction binding: the canonical form of a context, so only its digest need be kept.

Two contexts are the same transaction when their canonical forms are equal: keys sorted,
numbers written as exact decimals without trailing zeros (``10``, ``10.0`` and
``Decimal("10.00")`` agree; nothing is ever rounded), text compared as NFC. A number and
the same digits as text (``1`` and ``"1"``) are the same detail. Numbers that are not
finite or have more than 60 digits, and values that are not plain data, are refused with
:class:`MalformedInput`.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import MalformedInput

MAX_CONTEXT_BYTES = 4096
_MAX_DEPTH = 4
_MAX_DIGITS = 60


def canonical_context(context: Mapping[str, Any]) -> str:
    """The canonical JSON text of ``context``."""
    if not isinstance(context, Mapping):
        raise MalformedInput("A transaction context must be a mapping of its details.")
    text = json.dumps(_plain(context, 0), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_CONTEXT_BYTES:
        raise MalformedInput("The transaction context is too large.")
    return text


def _plain(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise MalformedInput("The transaction context is nested too deeply.")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise MalformedInput("Transaction context keys must be text.")
        plain = {_text(k): _plain(v, depth + 1) for k, v in value.items()}
        if len(plain) != len(value):
            raise MalformedInput("Two transaction context keys are the same text.")
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    raise MalformedInput(f"A transaction context cannot hold a {type(value).__name__}.")


def _text(value: str) -> str:
    if len(value) > MAX_CONTEXT_BYTES:
        raise MalformedInput("The transaction context is too large.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedInput("The transaction context holds text that is not Unicode.") from None
    return unicodedata.normalize("NFC", value)


def _number(value: int | float | Decimal) -> str:
    """The exact decimal text of ``value`` without trailing zeros; no rounding, ever."""
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedInput("A transaction amount must be a finite number.")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise MalformedInput("A transaction amount is not a number.") from None
    if not number.is_finite():
        raise MalformedInput("A transaction amount must be a finite number.")
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) > _MAX_DIGITS or not -_MAX_DIGITS <= exponent <= _MAX_DIGITS:
        raise MalformedInput("A transaction amount has too many digits.")
    text = format(number, "f")  # exact: formats the number's own digits
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", "0"} else text
