"""Client CPU of one async script call, by how it is sent (a script, not a test).

    python bench/redis_calls.py [--calls 300] [--rounds 40]

Run from the repo root with ``PYTHONPATH=src``. It starts a redis-server on a free loopback
port and times, in this process (CPU time of its thread, interleaved rounds: the median and
the minimum per call), a settle-sized ``EVALSHA`` (14 arguments, as a verify's check with
its state write sends) made four ways:

- ``execute_command``: redis-py's ``Redis.execute_command``;
- ``lean``: ``AsyncRedisStore``'s script call on a plain client (``otpgate.redis.lean``);
- ``send+read``: the pool's connection, ``send_packed_command`` and ``read_response`` of a
  command packed once, no retry policy (the floor of redis-py's public steps);
- ``stream``: the same bytes written to and a line read from the connection's asyncio
  streams (no parser, no timeouts: what the socket round trip costs here).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loadgen import free_port  # noqa: E402

# bench/redis.py would shadow redis-py: the rest imports from the real path only.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

SCRIPT = "return {1, ARGV[1], 3}"


async def measure(url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    from otpgate.redis.connect import async_client
    from otpgate.redis.lean import lean_sender

    client: Any = async_client(url)[0]
    sha = await client.script_load(SCRIPT)
    sha = sha.encode() if isinstance(sha, str) else sha
    args = (
        "EVALSHA", sha, b"2", "otpgate:{s:abc}:x", "otpgate:{s:abc}:y", "1700000000.123",
        "5", "0", "3", "900", "1", "abcdef", "sealed" * 20, "3600",
    )  # fmt: skip
    lean = lean_sender(client)
    assert lean is not None
    pool = client.connection_pool
    connection = await pool.get_connection()
    packed = connection.pack_command(*args)
    await pool.release(connection)

    async def send_read(*_: Any) -> Any:
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command(packed)
            return await conn.read_response()
        finally:
            await pool.release(conn)

    async def stream(*_: Any) -> Any:
        conn = await pool.get_connection()
        try:
            conn._writer.writelines(packed)  # private: the floor, for comparison only
            await conn._writer.drain()
            for _ in range(4):  # *3, :1, $len + value, :3
                await conn._reader.readline()
            return await conn._reader.readline()
        finally:
            await pool.release(conn)

    ways: dict[str, Callable[..., Awaitable[Any]]] = {
        "execute_command": client.execute_command,
        "lean": lean,
        "send+read": send_read,
        "stream": stream,
    }
    for way in ways.values():
        for _ in range(100):
            await way(*args)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            start = time.thread_time()
            for _ in range(calls):
                await way(*args)
            times[name].append((time.thread_time() - start) / calls * 1e6)
    await client.aclose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        url = f"redis://127.0.0.1:{port}/0"
        times = asyncio.run(measure(url, options.calls, options.rounds))
    finally:
        server.terminate()
        server.wait(10)
    for name, values in times.items():
        print(
            f"{name:<16} {statistics.median(values):6.1f} us per call "
            f"(min {min(values):.1f}), client CPU"
        )


if __name__ == "__main__":
    main()
