"""Reaching the store and the SMS gateways without changing anything: Redis ``PING`` and
``SCRIPT LOAD`` (the scripts every check runs), a TCP connection and an HTTP ``HEAD`` to each
gateway's base URL (no credentials, no message)."""

from __future__ import annotations

import http.client
import socket
import ssl
import statistics
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from otpgate.core.wiring import build_sender

TIMEOUT = 3.0
PINGS = 5


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``level`` is ``ok``, ``warn`` or ``fail``."""

    level: str
    topic: str
    message: str
    fix: str = ""


def safe_url(url: str) -> str:
    """``url`` without its user and password."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def probe_redis(url: str, options: dict[str, Any], key: str) -> list[Finding]:
    from .pumping import block_findings

    try:
        from otpgate.redis import RedisStore
    except ImportError as error:
        return [Finding("fail", "store", f"{key} is a Redis URL: {error}")]
    shown = safe_url(url)
    fix = f"Start Redis or fix {key}; otpgate refuses every code while its store is down."
    options = {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT, **options}
    try:
        store = RedisStore.from_url(url, **options)
    except Exception as error:
        return [Finding("fail", "store", f"{key}: cannot use {shown!r} ({error})", fix)]
    try:
        client: Any = store.client
        times = []
        for _ in range(PINGS):
            started = time.perf_counter()
            client.ping()
            times.append((time.perf_counter() - started) * 1000)
        store.load_scripts()
        blocked = block_findings(store)
    except Exception as error:
        reason = getattr(error, "code", "") or type(error).__name__
        return [Finding("fail", "store", f"Redis at {shown} does not answer ({reason})", fix)]
    finally:
        store.close()
    rtt = f"median {statistics.median(times):.2f} ms, max {max(times):.2f} ms"
    found = [Finding("ok", "store", f"Redis at {shown} answers PING ({rtt}); scripts loaded")]
    found += blocked
    if statistics.median(times) > 10:
        found.append(
            Finding(
                "warn",
                "store",
                "Redis is slow to answer: each check costs one round trip",
                "Put Redis near the application (same region or host).",
            )
        )
    return found


def memory_store_finding() -> Finding:
    return Finding(
        "warn",
        "store",
        "in-memory store: challenges, budgets and lockouts live in one process",
        "Fine for one process; with several workers or hosts set OTPGATE_STORE to "
        "redis://... (the same name in Django, Flask and FastAPI), or pass a RedisStore.",
    )


#: Senders that deliver nothing: fine in development, a warning before production.
DEVELOPMENT_SENDERS = frozenset(
    {"ConsoleSender", "OutboxSender", "InboxSender", "ConsoleVoiceSender", "OutboxVoiceSender"}
)


def targets(sender: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """``(name, sender)`` for each sender behind ``sender`` (failover chains, wrappers)."""
    inner = getattr(sender, "senders", None)
    if isinstance(inner, list) and depth < 5:
        return [t for s in inner for t in targets(s, depth + 1)]
    for attribute in ("sender", "_sender", "inner", "_inner", "_target"):
        wrapped = getattr(sender, attribute, None)
        if wrapped is not None and hasattr(wrapped, "send") and depth < 5:
            return targets(wrapped, depth + 1)
    return [(str(getattr(sender, "name", type(sender).__name__)), sender)]


def url_of(sender: Any) -> str | None:
    """The base URL a sender talks to, when it has one."""
    gateway = getattr(sender, "gateway", None)
    url = getattr(gateway, "url", None)
    if isinstance(url, str):
        return url
    client = getattr(sender, "client", None)  # boto3's SNS client
    endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
    return endpoint if isinstance(endpoint, str) else None


def probe_url(name: str, url: str) -> Finding:
    """TCP connect, then ``HEAD /`` on the URL's origin: any HTTP answer means reachable."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    origin = f"{parts.scheme}://{host}:{port}"
    fix = f"Check that {name} is up and that this host may reach {origin} (firewall, proxy, DNS)."
    started = time.perf_counter()
    try:
        socket.create_connection((host, port), timeout=TIMEOUT).close()
    except OSError as error:
        reason = type(error).__name__
        return Finding("fail", "gateway", f"{name}: cannot connect to {origin} ({reason})", fix)
    connect_ms = (time.perf_counter() - started) * 1000
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, port, timeout=TIMEOUT, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("HEAD", "/")
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        reason = f"{type(error).__name__}: {error}" if isinstance(error, ssl.SSLError) else ""
        reason = reason or type(error).__name__
        return Finding("fail", "gateway", f"{name}: {origin} accepts TCP but not HTTP ({reason})")
    finally:
        connection.close()
    message = f"{name}: {origin} answers (TCP {connect_ms:.0f} ms, HEAD / → HTTP {status})"
    return Finding("ok", "gateway", message)


def probe_sender(value: Any) -> list[Finding]:
    if value in (None, ""):
        return [
            Finding(
                "warn",
                "gateway",
                "OTPGATE_SENDER is not set: no gateway to reach",
                "Set OTPGATE_SENDER to the dotted path of your sender (or a factory that "
                "builds it, e.g. myapp.sms.make_sender) so `otpgate check` can reach it.",
            )
        ]
    if value in ("console", "outbox"):
        kind = "prints each SMS" if value == "console" else "keeps each SMS in memory"
        fix = "Set OTPGATE_SENDER to a gateway's sender before production."
        return [Finding("warn", "gateway", f"the {value} sender {kind}: development only", fix)]
    try:
        sender = build_sender(value)
    except Exception as failure:
        error = failure.__cause__ or failure  # the import's own error, when there was one
        return [
            Finding(
                "fail",
                "gateway",
                f"OTPGATE_SENDER: cannot build {value!r} ({type(error).__name__}: {error})",
                "Fix the dotted path, or the settings the sender's constructor reads.",
            )
        ]
    found = []
    for name, inner in targets(sender):
        url = url_of(inner)
        if url:
            found.append(probe_url(name, url))
        elif type(inner).__name__ in DEVELOPMENT_SENDERS:
            fix = "Set OTPGATE_SENDER to a gateway's sender before production."
            found.append(Finding("warn", "gateway", f"{name}: a development sender", fix))
        else:
            found.append(Finding("ok", "gateway", f"{name}: built (no URL known to probe)"))
    return found
