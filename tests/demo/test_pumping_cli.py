"""``otpgate pumping list|lift`` and ``otpgate check`` on a real Redis holding a block the
SMS pumping guard started."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from otpgate import OutboxSender, Settings, SmsTemporarilyUnavailable, Verifier
from otpgate.redis import RedisStore
from tests.conftest import FakeClock
from tests.demo.test_check import KEY, check
from tests.redis.servers import redis_server


def _pump(url: str) -> None:
    """A new country (+225) pumped with codes nobody enters, on a clock that starts now."""
    store = RedisStore.from_url(url)
    clock = FakeClock(time.time())
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender(), clock=clock)
    for n in range(20):
        with contextlib.suppress(SmsTemporarilyUnavailable):
            gate.start_sms(f"bot{n}", f"+22507000000{n:02d}", purpose="enroll")
        clock.advance(20)
    store.close()


def test_blocked_ranges_are_listed_reported_and_lifted(tmp_path):
    server = redis_server(tmp_path / "redis").start()
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_STORE": server.url}
    try:
        _pump(server.url)
        checked = check(tmp_path, env)
        assert checked.returncode == 0, checked.stdout  # a block is a warning
        out = " ".join(checked.stdout.split())
        assert "! pumping SMS pumping guard: +225 blocked until" in out
        assert "→ If this range is legitimate: otpgate pumping lift '+225'" in out
        for args, status, text in [
            (["list"], 0, "+225 blocked until"),
            (["lift", "+225"], 0, "Lifted the block of +225"),
            (["list"], 0, "No range is blocked."),
            (["lift", "+225"], 1, "+225 was not blocked."),
            (["lift", "+22 5x"], 2, "expected a prefix"),
        ]:
            result = pumping(tmp_path, env, *args)
            assert result.returncode == status, result.stdout + result.stderr
            assert text in result.stdout
    finally:
        server.stop()


def test_the_memory_store_cannot_be_reached_from_outside(tmp_path):
    result = pumping(tmp_path, {"OTPGATE_SECRET_KEYS": KEY}, "list")
    assert result.returncode == 1
    assert "lives in the application's process" in result.stderr


def pumping(tmp_path, env, *args):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTPGATE_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "otpgate", "pumping", *args],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
