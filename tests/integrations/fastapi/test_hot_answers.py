"""The hot ``POST /verify`` answer is built without pydantic and finished without
``MutableHeaders``, and bodies are read without Starlette's async generator: the same
bytes, headers and errors as the general way."""

from __future__ import annotations

import random

import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from otpgate.core.challenge import Verification
from otpgate.core.errors import MalformedInput
from otpgate.core.framing import add_framing_headers
from otpgate.integrations.fastapi import ProblemRoute
from otpgate.integrations.fastapi.models import VerificationOut, verification_json
from otpgate.integrations.fastapi.request_body import read_body

from .conftest import SETTINGS


def test_verification_json_is_what_pydantic_writes() -> None:
    rng = random.Random(17)
    stamps = [0.0, 1.0, 1764614865.0, 1764614865.5, 1764614865.000001, 1764614865.9999996]
    stamps += [1764614865.1234565, 4102444800.25, 951782400.0]  # rounding, 2100, a leap day
    stamps += [rng.uniform(0, 4102444800) for _ in range(2000)]
    for stamp in stamps:
        for factor, purpose, token in [
            ("totp", "action", None),
            ("sms", "login", "dvc.abc-DEF_123"),
            ("webauthn", "enroll", None),
            ('é"\\\n\t\x01\x7f\u2028😀', "login", "</script>\x00ü"),  # any text, escaped alike
        ]:
            verification = Verification("alice", purpose, factor, stamp)
            expected = VerificationOut.of(verification, token).model_dump_json()
            assert verification_json(verification, token) == expected, stamp


def _route() -> ProblemRoute:
    async def endpoint() -> None:
        return None

    return ProblemRoute("/x", endpoint)


def _by_hand(response: Response) -> list[tuple[bytes, bytes]]:
    """What ``_finished`` did before: through Starlette's ``MutableHeaders``."""
    copy = Response(response.body, headers=None, media_type=None)
    copy.raw_headers = list(response.raw_headers)
    copy.headers["Cache-Control"] = "no-store"
    add_framing_headers(copy.headers, None)
    return copy.raw_headers


def test_finished_sets_the_same_headers_as_before() -> None:
    answers = [
        Response(b"{}", media_type="application/json", headers={"OTP-Step-Up": "t"}),
        JSONResponse({"a": 1}, status_code=400, headers={"Retry-After": "3"}),
        Response(b"", headers={"Cache-Control": "max-age=60"}),
        Response(b"x", headers={"Content-Security-Policy": "default-src 'self'"}),
        Response(b"x", headers={"X-Frame-Options": "SAMEORIGIN"}),
    ]
    for response in answers:
        expected = _by_hand(response)
        finished = _route()._finished(response)
        assert finished.raw_headers == expected
        assert finished.headers["cache-control"] == "no-store"
        assert "frame-ancestors" in finished.headers["content-security-policy"]


def test_finished_follows_the_settings_of_each_route_class() -> None:
    relaxed = SETTINGS.replace(frame_ancestors=("'self'",))

    class Relaxed(ProblemRoute):
        settings = relaxed

    async def endpoint() -> None:
        return None

    for route, framing in [(Relaxed("/x", endpoint), b"SAMEORIGIN"), (_route(), b"DENY")] * 2:
        headers = dict(route._finished(Response(b"")).raw_headers)
        assert headers[b"x-frame-options"] == framing
        assert headers[b"cache-control"] == b"no-store"


def _request(*messages: dict[str, object]) -> Request:
    queue = list(messages)

    async def receive() -> dict[str, object]:
        return queue.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    return Request(scope, receive)  # type: ignore[arg-type]


async def test_read_body_reads_as_starlette_and_keeps_it_for_starlette() -> None:
    parts = [b'{"factor": ', b"", b'"totp"}']
    request = _request(
        *({"type": "http.request", "body": part, "more_body": True} for part in parts),
        {"type": "http.request", "body": b"", "more_body": False},
    )
    assert await read_body(request) == b'{"factor": "totp"}'
    assert await read_body(request) == await request.body() == b'{"factor": "totp"}'
    assert await request.json() == {"factor": "totp"}


def _consumed() -> Request:
    request = _request({"type": "http.request", "body": b"{}"})
    request._stream_consumed = True
    return request


async def test_read_body_refuses_too_much_and_a_gone_client() -> None:
    chunk = {"type": "http.request", "body": b" " * 4096, "more_body": True}
    with pytest.raises(MalformedInput):
        await read_body(_request(*[chunk] * 5))
    request = _request(chunk, {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect):
        await read_body(request)
    assert await request.is_disconnected()
    with pytest.raises(RuntimeError):
        await read_body(_consumed())
