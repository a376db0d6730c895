"""The core's one body parser: bounded, flat JSON objects, or MalformedInput, never a crash."""

from __future__ import annotations

import pytest

from otpgate import MalformedInput
from otpgate.core.bodies import MAX_BODY_BYTES, MAX_DEPTH, nesting, parse_json_object, too_large


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b"[" * 200_000,  # deeper than the C parser recurses: refused before parsing
        b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
        b'{"code": "' + b"1" * MAX_BODY_BYTES + b'"}',
        b'{"code": "\xff"}',
        b'{"code": NaN}',
        b'{"code": -Infinity}',
        b"1" * 5000,  # more digits than int() takes
        b"[1]",
        b"null",
        b'"text"',
        b"{",
    ],
    ids=lambda raw: repr(raw[:24]),
)
def test_bodies_it_cannot_take_safely_are_malformed_input(raw: bytes):
    with pytest.raises(MalformedInput):
        parse_json_object(raw)


def test_objects_and_empty_bodies_are_read():
    assert parse_json_object(b"") == {} and parse_json_object(b" \r\n") == {}
    body = b'{"code": "[[[[\\"{{", "next": "/a]}"}'
    assert parse_json_object(body) == {"code": '[[[["{{', "next": "/a]}"}
    nested = b'{"a": ' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH
    assert nesting(nested.decode()) == MAX_DEPTH and parse_json_object(nested)


def test_nesting_ignores_brackets_in_strings_and_escapes():
    assert nesting('{"a": "[[[[", "b": "\\\\", "c": ["]"]}') == 2
    assert nesting('"\\"[[[["') == 0


def test_declared_lengths():
    assert not too_large(None) and not too_large(MAX_BODY_BYTES)
    assert too_large(MAX_BODY_BYTES + 1) and too_large(10, max_bytes=5)
