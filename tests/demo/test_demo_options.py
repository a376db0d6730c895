"""``otpgate demo``'s options and failures: --redis (a real server), a missing framework, an
unreachable Redis, busy ports, --help."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from otpgate.demo import launcher, stories
from tests.demo.running import RunningDemo, alive

ALICE = {"Authorization": "Bearer alice-token"}
PAYMENT = {"amount": "12.50", "currency": "EUR", "payee": "DE89370400440532013000"}


def test_a_missing_framework_names_what_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "uvicorn" else real(name)
    )
    assert launcher.run(["django", "fastapi"]) == 2
    message = capsys.readouterr().err
    assert "the FastAPI site needs uvicorn" in message
    assert 'pip install "otpgate[demo]"' in message
    assert "otpgate demo --framework django" in message  # what runs already


def test_an_unreachable_redis_is_a_clear_error(capsys):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert launcher.run(["flask"], redis_url=f"redis://127.0.0.1:{port}/0") == 1
    message = capsys.readouterr().err
    assert f"Redis at 'redis://127.0.0.1:{port}/0' does not answer" in message
    assert "leave out --redis" in message


def test_a_busy_port_falls_back_to_a_free_one():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        port, moved = launcher.pick_port(taken)
    assert moved and port != taken
    assert launcher.pick_port(0)[1] is False


def test_every_command_has_help():
    for args in (["--help"], ["demo", "--help"], ["inbox", "--help"], ["keygen", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "otpgate", *args], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        assert "usage: otpgate" in result.stdout
    demo_help = subprocess.run(
        [sys.executable, "-m", "otpgate", "demo", "--help"], capture_output=True, text=True
    ).stdout
    for option in ("--framework", "--redis", "--port", "--inbox-port", "--terminal"):
        assert option in demo_help


def test_stories_cover_the_three_frameworks():
    assert list(stories.SITES) == ["django", "flask", "fastapi"]
    assert stories.missing_message(list(stories.SITES.values())) is None


def test_the_api_story_on_redis(tmp_path):
    pytest.importorskip("fastapi")
    from tests.redis.servers import redis_server

    server = redis_server(tmp_path / "redis").start()
    demo = RunningDemo("--framework", "fastapi", "--redis", server.url, cwd=tmp_path)
    try:
        demo.wait_ready()
        assert list(demo.sites) == ["fastapi"]
        assert f"Challenges live in Redis ({server.url})" in demo.text
        with httpx.Client(base_url=demo.sites["fastapi"], timeout=10) as client:
            payment = client.post("/payments", json=PAYMENT, headers=ALICE).json()
            execute = f"/payments/{payment['id']}/execute"
            started = client.post(execute, headers=ALICE)
            assert started.status_code == 401
            code = demo.latest_sms("+33612345678")["code"]
            headers = {**ALICE, "OTP-Challenge": started.headers["OTP-Challenge"]}
            done = client.post(execute, headers={**headers, "OTP-Code": code})
            assert done.status_code == 200, done.text
        with server.client() as redis:
            keys = [key.decode() for key in redis.scan_iter(count=1000)]
        assert keys and all(key.startswith("otpgate-demo:fastapi:") for key in keys)
        children = demo.children()
        assert demo.interrupt() == 0
        assert not [pid for pid in children if alive(pid)]
    finally:
        demo.kill()
        server.stop()


def test_sites_stop_when_the_launcher_is_killed_outright(tmp_path):
    demo = RunningDemo("--framework", "flask", cwd=tmp_path)
    try:
        demo.wait_ready()
        children = demo.children()
        assert len(children) == 1
        os.kill(demo.process.pid, signal.SIGKILL)  # no chance to clean up
        demo.process.wait(10)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in children if alive(pid)]
    finally:
        demo.kill()


def test_ctrl_c_stops_the_demo_started_as_a_background_job(tmp_path):
    """``otpgate demo &`` from a script starts with SIGINT ignored: Ctrl-C still stops it."""
    demo = RunningDemo("--framework", "flask", cwd=tmp_path, background_job=True)
    try:
        demo.wait_ready()
        children = demo.children()
        assert demo.interrupt() == 0
        assert "otpgate demo: stopped." in demo.text
        assert not [pid for pid in children if alive(pid)]
    finally:
        demo.kill()
