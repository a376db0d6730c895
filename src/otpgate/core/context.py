"""Transaction binding: the canonical form of a context, so only its digest need be kept.

Two contexts are the same transaction when their canonical forms are equal: keys sorted,
numbers written as normalised decimals (``10``, ``10.0`` and ``Decimal("10.00")`` agree),
text compared as NFC. Floats that are not finite, and values that are not plain data, are
refused with :class:`MalformedInput`.
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
        return unicodedata.normalize("NFC", value)
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise MalformedInput("Transaction context keys must be text.")
        return {unicodedata.normalize("NFC", k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    raise MalformedInput(f"A transaction context cannot hold a {type(value).__name__}.")


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedInput("A transaction amount must be a finite number.")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise MalformedInput("A transaction amount must be a finite number.")
        text = format(number.normalize(), "f")
    except (InvalidOperation, ValueError):
        raise MalformedInput("A transaction amount is not a number.") from None
    return "0" if text in {"-0", "0"} else text
