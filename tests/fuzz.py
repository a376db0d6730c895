"""Malformed request bodies for the fuzz tests of every integration: (raw bytes, content type).

``REFUSED``: bodies no otpgate endpoint can read safely (too large, too deep, not UTF-8, not
a JSON object): each must be a 400 ``malformed_input`` and change nothing. ``ODD``: bodies
well formed as a whole whose values are of the wrong type or script, NUL bytes, very long
text, or a wrong content type: never a 5xx, and an answer that refuses changes nothing.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
DEEP = "[" * 5000 + "]" * 5000
#: Every field name otpgate's endpoints read, in one of the three integrations.
FIELDS = ("method", "code", "phone", "index", "next", "action", "factor", "purpose", "account")

Body = tuple[bytes, str]


def _json(text: str) -> Body:
    return text.encode(), JSON


def _multipart(fields: dict[str, str]) -> Body:
    boundary = "otpgate-fuzz"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.txt"'
        f"\r\nContent-Type: text/plain\r\n\r\n{value}\r\n"
        for name, value in fields.items()
    ]
    return (
        ("".join(parts) + f"--{boundary}--\r\n").encode(),
        f"multipart/form-data; boundary={boundary}",
    )


REFUSED: dict[str, Body] = {
    "deep array": _json(DEEP),
    "deeper than any Python parses": _json("[" * 50_000 + "]" * 50_000),
    "deep in a field": _json('{"code": ' + DEEP + "}"),
    "deep object": _json('{"a":' * 5000 + "1" + "}" * 5000),
    "1 MB of JSON": _json('{"code": "' + "1" * 1_000_000 + '"}'),
    "1 MB of blanks": _json(
        '{"method": "sms", "code": "123456", "phone": "+33698765432"' + " " * 1_000_000 + "}"
    ),
    "1 MB form": (urlencode({"code": "1" * 1_000_000}).encode(), FORM),
    "2 MB of bytes": (b"\0" * 2_000_000, "application/octet-stream"),
    "invalid UTF-8": (b'{"code": "\xff\xfe123456"}', JSON),
    "a list": _json('[{"method": "sms"}]'),
    "a number": _json("123456"),
    "null": _json("null"),
    "a string": _json('"123456"'),
    "broken": _json('{"code": "123456"'),
    "NaN": _json('{"method": "sms", "code": NaN}'),
}

ODD_VALUES: list[object] = [
    [],
    123456,
    None,
    {"code": "123456"},
    True,
    "١٢٣٤٥٦",
    "１２３４５６",
    "+33 ６１２３４５６７８",
    "\x00",
    "123456\x00",
    "[" * 5000,
    "x" * 5000,
]

ODD: dict[str, Body] = {
    **{f"json {v!r:.20}": _json(json.dumps(dict.fromkeys(FIELDS, v))) for v in ODD_VALUES},
    **{
        f"form {v!r:.20}": (urlencode(dict.fromkeys(FIELDS, v)).encode(), FORM)
        for v in ODD_VALUES
        if isinstance(v, str)
    },
    "form, invalid UTF-8": (b"method=sms&code=\xff\xfe&phone=%FF%FE&index=\xff", FORM),
    "json as text/plain": (b'{"method": "sms", "code": "123456"}', "text/plain"),
    "xml": (b"<code>123456</code>", "application/xml"),
    "multipart files": _multipart({"code": "123456", "phone": "+33612345678"}),
    "json, odd charset": (b'{"code": "123456"}', "application/json; charset=x-unknown"),
    "no content type": (b'{"code": "123456"}', ""),
}
