"""A script call on a plain or Sentinel ``redis.asyncio.Redis``, with less per-call work.

``Redis.execute_command`` wraps every command in machinery a script call of the store's does
not use: metrics hooks (awaited even when off), a single-connection lock, an ``HIMPORT``
test, response callbacks (none for ``EVALSHA``/``EVAL``), the options of ``parse_response``.
For a verify that is about a quarter of the client's CPU time for its one round trip. Here
the call takes the same steps through redis-py's public parts, and nothing else:

- a connection from the client's pool (``get_connection``: it connects a new one, and on
  RESP2 reconnects one that holds unread data; on RESP3, redis-py 8's default, its
  maintenance notifications "auto" turn that check off), given back in ``finally``;
- the command packed with that connection's encoder (:func:`packed`: the bytes its
  ``pack_command`` makes, in a third of the time), sent with ``send_packed_command``
  and its reply read with
  ``read_response`` (which decodes as the client does and raises a reply error, e.g.
  ``NoScriptError``, as ``execute_command`` does);
- both run under the connection's own ``retry`` (otpgate's: one immediate retry of a broken
  connection, counted by ``once.py``), the connection disconnected before a retry.

What keeps a connection's replies its own: ``send_packed_command`` and ``read_response``
disconnect the connection on any error, a timeout, or a cancellation while they wait (their
``BaseException`` handlers), and there is no other place where the call waits between
sending and reading; so a connection goes back to the pool with its reply read, or
disconnected (the pool reconnects it before its next use), never with another call's reply
waiting. A Sentinel pool's connection finds the master as ever, and its ``read_response``
turns ``READONLY`` from a demoted master into a broken connection (retried on the new one).

Where any of that could differ, the client's own ``execute_command`` runs the call: another
client class (a Cluster, or a subclass overriding how commands run), a connection class
other than redis-py's own (TCP, TLS, Unix socket, Sentinel), a single-connection client, a
response callback set for the command, redis-py's metrics switched on.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio
import redis.asyncio.connection
import redis.asyncio.sentinel

_metrics_collector: Callable[[], object] | None
try:  # redis-py >= 7: metrics (OpenTelemetry); off unless the app switches them on
    from redis.asyncio.observability.recorder import (
        _get_or_create_collector as _metrics_collector,
    )
except ImportError:  # pragma: no cover - older redis-py records nothing
    _metrics_collector = None

_Send = Callable[..., Awaitable[Any]]

#: The connection classes whose ``send_packed_command`` and ``read_response`` are what
#: ``execute_command`` relies on (a class of the app's own, or a caching proxy, may hook
#: ``send_command`` instead: its client keeps ``execute_command``).
_KNOWN_CONNECTIONS = frozenset(
    {
        redis.asyncio.connection.Connection,
        redis.asyncio.connection.SSLConnection,
        redis.asyncio.connection.UnixDomainSocketConnection,
        redis.asyncio.sentinel.SentinelManagedConnection,
        redis.asyncio.sentinel.SentinelManagedSSLConnection,
    }
)


def _pool_takes_no_name(pool: Any) -> bool:
    """Whether ``pool.get_connection()`` needs no command name (redis-py >= 5.3; before, the
    name is a required argument, which later versions warn about)."""
    try:
        parameters = list(inspect.signature(pool.get_connection).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - not introspectable: pass the name
        return False
    first = parameters[0] if parameters else None
    return (
        first is None
        or first.kind is inspect.Parameter.VAR_POSITIONAL
        or first.default is not inspect.Parameter.empty
    )


def _head(name: Any) -> tuple[int, bytes]:
    """The command's name as ``pack_command`` sends it: UTF-8 whatever the encoding, split
    at spaces (``"SCRIPT LOAD"`` is two arguments); the number of parts and their bytes."""
    if isinstance(name, str):
        parts = name.encode().split()
    elif b" " in name:
        parts = name.split()
    else:
        parts = [name]
    return len(parts), b"".join(b"$%d\r\n%b\r\n" % (len(p), p) for p in parts)


_HEADS = {name: _head(name) for name in ("EVALSHA", "EVAL")}


def packed(args: tuple[Any, ...], encoder: Any) -> bytes:
    """``args`` as the RESP command ``Connection.pack_command`` sends, joined: the first
    (the command's name) in UTF-8 and split at spaces, as it does; each other
    argument encoded by ``encoder`` (redis-py's ``Encoder``: ``str`` with its encoding and
    error handler, bytes as they are, numbers as their ``repr``; anything else refused by
    it), with a fast path for ``str`` and ``bytes``."""
    encoding, errors = encoder.encoding, encoder.encoding_errors
    name = args[0]
    head = _HEADS.get(name) if type(name) is str else None
    if head is None:
        head = _head(name)
    parts, packed_name = head
    out = [b"*%d\r\n%b" % (parts + len(args) - 1, packed_name)]
    args = args[1:]
    for arg in args:
        if type(arg) is str:
            data = arg.encode(encoding, errors)
        elif type(arg) is bytes:
            data = arg
        else:
            data = encoder.encode(arg)
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


class AsyncScriptSender:
    """``execute_command`` for script calls on a plain or Sentinel ``redis.asyncio.Redis``
    (see the module): the same reply, error and connection handling, less work per call."""

    __slots__ = ("_name_args", "client")

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client
        pool = client.connection_pool
        self._name_args: tuple[str, ...] = () if _pool_takes_no_name(pool) else ("EVALSHA",)

    def _plain(self, command: object) -> bool:
        """Whether nothing the client is set up with would treat this call otherwise."""
        client: Any = self.client
        if client.single_connection_client or client.connection is not None:
            return False
        if command in client.response_callbacks:
            return False
        return _metrics_collector is None or _metrics_collector() is None

    async def execute_command(self, *args: Any) -> Any:
        """Run ``args`` (a script call) and return its reply, as the client would."""
        client: Any = self.client
        if not self._plain(args[0]):
            return await client.execute_command(*args)
        pool = client.connection_pool
        conn = await pool.get_connection(*self._name_args)
        try:
            command = packed(args, conn.encoder)

            async def send_and_read() -> Any:
                await conn.send_packed_command(command)
                return await conn.read_response()

            async def disconnect(error: BaseException) -> None:
                await conn.disconnect()

            return await conn.retry.call_with_retry(send_and_read, disconnect)
        finally:
            await pool.release(conn)


def lean_sender(client: object) -> _Send | None:
    """The lean script call for ``client``, or None where its ``execute_command`` must run
    (a Cluster, a client or connection class of its own, a single-connection client)."""
    if type(client) is not redis.asyncio.Redis:  # subclasses may run commands their way
        return None
    if client.single_connection_client:
        return None
    if getattr(client.connection_pool, "connection_class", None) not in _KNOWN_CONNECTIONS:
        return None
    return AsyncScriptSender(client).execute_command
