"""The payments scenario against real servers on loopback ports.

- the example app in a uvicorn server in a thread (memory store, and Redis through
  ``OTPGATE_REDIS_URL``-style ``redis_url``), started once per module per store;
- the example exactly as the README runs it, ``python examples/fastapi_service/app.py``, in a
  subprocess, reading the SMS from its terminal output.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from otpgate import OutboxSender
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import PHONE
from tests.redis.fixtures import new_prefix
from tests.redis.servers import free_port

from .conftest import EXAMPLE, SETTINGS, load_example

ALICE = {"Authorization": "Bearer alice-token"}
PAYMENT = {"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}


@dataclass
class Served:
    url: str
    outbox: OutboxSender


@pytest.fixture(scope="module", params=["memory", "redis"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The example app in uvicorn, in a thread, on a free loopback port."""
    example = load_example()
    outbox = OutboxSender()
    redis_url = None
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_server").url
    gate = OtpGate(
        SETTINGS,
        redis_url=redis_url,
        # a prefix of its own; a loaded 2-core CI machine may need more than 0.5 s to connect
        redis_options={"prefix": new_prefix(), "socket_connect_timeout": 5, "socket_timeout": 5},
        database_url=None,
        sender=outbox,
        current_subject=example.current_subject,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(example.create_app(gate), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", outbox)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


async def create_and_start(client: httpx.AsyncClient) -> tuple[str, str]:
    execute, started = await create_and_open(client)
    return execute, started.headers["OTP-Challenge"]


async def create_and_open(client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    payment = (await client.post("/payments", json=PAYMENT, headers=ALICE)).json()
    execute = f"/payments/{payment['id']}/execute"
    started = await client.post(execute, headers=ALICE)
    assert started.status_code == 401, started.text
    assert started.headers["content-type"] == "application/problem+json"
    return execute, started


async def test_payment_scenario_over_http(served: Served):
    async with httpx.AsyncClient(base_url=served.url) as client:
        unauthenticated = await client.post("/payments", json=PAYMENT)
        assert unauthenticated.status_code == 401
        execute, started = await create_and_open(client)
        challenge = started.headers["OTP-Challenge"]
        sms = started.json()["challenge"]["id"]  # the SMS the confirmation waits on
        status = await client.get(f"/otpgate/challenges/{sms}", headers=ALICE)
        assert status.json()["purpose"] == "transaction"
        code = served.outbox.last_code_for(PHONE)
        headers = {**ALICE, "OTP-Challenge": challenge, "OTP-Code": code}
        done = await client.post(execute, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "executed"
        replay = await client.post(execute, headers=headers)  # answers the recorded outcome
        assert replay.status_code == 409
        assert replay.json()["outcome"] == {"payment": done.json()["id"], "status": "executed"}
        bob = {"Authorization": "Bearer bob-token"}
        assert (await client.get(execute.rsplit("/", 1)[0], headers=bob)).status_code == 404


async def test_100_concurrent_confirmations_over_http_execute_once(served: Served):
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=served.url, limits=limits, timeout=30) as client:
        execute, challenge = await create_and_start(client)
        code = served.outbox.last_code_for(PHONE)
        headers = {**ALICE, "OTP-Challenge": challenge, "OTP-Code": code}
        responses = await asyncio.gather(
            *[client.post(execute, headers=headers) for _ in range(100)]
        )
        assert Counter(r.status_code for r in responses) == {200: 1, 409: 99}
        payment = await client.get(execute.rsplit("/", 1)[0], headers=ALICE)
        assert payment.json()["status"] == "executed"


def test_the_example_runs_with_one_command(tmp_path):
    """``python examples/fastapi_service/app.py`` on embedded defaults; the SMS is printed."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTPGATE_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    )
    reader.start()

    def wait_for(pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                assert process.poll() is None, "the example exited"
                continue
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no {pattern!r} in the example's output")

    try:
        wait_for(r"Uvicorn running on http://127\.0\.0\.1")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            payment = client.post("/payments", json=PAYMENT, headers=ALICE).json()
            execute = f"/payments/{payment['id']}/execute"
            started = client.post(execute, headers=ALICE)
            assert started.status_code == 401
            code = wait_for(r"code (\d{6}) confirms payment of 250\.00 EUR").group(1)
            headers = {**ALICE, "OTP-Challenge": started.headers["OTP-Challenge"], "OTP-Code": code}
            done = client.post(execute, headers=headers)
            assert done.status_code == 200, done.text
            assert client.get("/openapi.json").status_code == 200
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()
    assert list(tmp_path.iterdir()) == []  # nothing left in the working directory
