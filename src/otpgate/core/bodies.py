"""Request bodies every integration reads the same way: bounded, flat JSON objects.

otpgate's endpoints take a few short text fields. :func:`parse_json_object` turns a raw body
into the object they expect, or raises :class:`MalformedInput` (400 through the one error
mapping) for anything the parser cannot take safely: a body over :data:`MAX_BODY_BYTES`,
text that is not UTF-8, broken JSON, ``NaN``/``Infinity``, nesting deeper than
:data:`MAX_DEPTH` (checked before parsing, so a 5,000-deep body never recurses), or another
shape than an object.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from .errors import MalformedInput

#: The largest body otpgate's own endpoints read (their fields are a few short strings).
MAX_BODY_BYTES = 16 * 1024
#: The deepest nesting of arrays and objects a body may have (otpgate's bodies are flat).
MAX_DEPTH = 8


def too_large(length: int | None, max_bytes: int = MAX_BODY_BYTES) -> bool:
    """True if a declared ``Content-Length`` is over ``max_bytes`` (None: not declared)."""
    return length is not None and length > max_bytes


def parse_json_object(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The JSON object in ``raw`` ({} for an empty body), or :class:`MalformedInput`."""
    if len(raw) > max_bytes:
        raise MalformedInput("The request body is too large.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInput("The request body is not UTF-8 text.") from None
    if not text.strip():
        return {}
    # Fewer brackets than the limit cannot nest deeper than it: no need to walk the text.
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting(text) > MAX_DEPTH:
        raise MalformedInput("The request body is nested too deeply.")
    try:
        body = _DECODER.decode(text)  # json.loads(text, parse_constant=...), its decoder made once
    except (ValueError, RecursionError):  # JSONDecodeError, too many digits for an int
        raise MalformedInput("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise MalformedInput("The request body must be a JSON object.")
    return body


def nesting(text: str) -> int:
    """How deeply arrays and objects nest in the JSON ``text`` (brackets inside strings do
    not count; broken JSON gets some number, and fails to parse later)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)
