"""The body check every route of otpgate's runs first (:class:`~.problems.ProblemRoute`):
the core's limits on size and JSON, before FastAPI reads the body, which it then reads
from Starlette's cache (no second read, no second parse)."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from otpgate.core.bodies import MAX_BODY_BYTES, parse_json_object, too_large
from otpgate.core.errors import MalformedInput


async def check_body(request: Request) -> None:
    """Before a route of otpgate's reads anything: refuse (MalformedInput) a body over the
    core's ``MAX_BODY_BYTES`` (by its ``Content-Length``, or while reading a body of
    undeclared length, kept as the request's body for Starlette to hand on), and a JSON
    body (or one without a content type, which FastAPI reads as JSON) that the core's
    parser refuses: not UTF-8, broken, nested too deeply, not an object."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit():
        if too_large(int(declared)):
            raise MalformedInput("The request body is too large.")
    elif request.method in {"GET", "HEAD", "OPTIONS"}:
        return  # a body of undeclared length on a safe method: never read
    else:
        await read_body(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in {"", "application/json"} or media.endswith("+json"):
        raw = await read_body(request)
        parsed = parse_json_object(raw)
        if parsed or raw.decode("utf-8").strip():  # what json.loads read: Starlette's
            request._json = (
                parsed  # request.json() (which FastAPI calls next) need not parse it again
            )


async def read_body(request: Request) -> bytes:
    """The request's body, refused (MalformedInput) once over ``MAX_BODY_BYTES``, and kept as
    Starlette's cache of it (``request.body()``, ``request.json()``): read as
    ``request.stream()`` reads it, without its async generator (a few µs per request)."""
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):
        return cached
    if getattr(request, "_stream_consumed", False):
        raise RuntimeError("Stream consumed")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MalformedInput("The request body is too large.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._stream_consumed = True
    body = request._body = b"".join(chunks)
    return body
