"""OtpGate's construction, lifespan, configuration from the environment, SQL credentials."""

from __future__ import annotations

import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from otpgate import ConfigurationError, Event, MemoryStore, OutboxSender, Settings
from otpgate.integrations.fastapi import OtpGate
from tests.conftest import KEY, PHONE, FakeClock

from .conftest import SETTINGS, bearer, make_app, token_subject

ALICE = bearer("alice")


def test_importing_without_fastapi_names_the_extra():
    probe = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'fastapi' or name.startswith('fastapi.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import otpgate.integrations.fastapi\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert 'pip install "otpgate[fastapi]"' in result.stdout


def test_settings_are_validated_when_the_gate_is_made():
    with pytest.raises(ConfigurationError, match="secret_keys"):
        OtpGate(Settings())


def test_from_env_reads_settings_and_urls():
    env = {
        "OTPGATE_SECRET_KEYS": KEY,
        "OTPGATE_CODE_DIGITS": "8",
        "OTPGATE_STORE": "redis://cache:6379/2",
        "OTPGATE_STORE_OPTIONS": '{"prefix": "api:", "cluster": false}',
        "OTPGATE_SENDER": "outbox",
        "OTPGATE_DATABASE_URL": "postgresql+asyncpg://db/otpgate",
        "PATH": "/bin",
    }
    gate = OtpGate.from_env(env, prefix="/2fa")
    assert gate.settings.code_digits == 8
    assert gate.redis_url == "redis://cache:6379/2"
    assert gate.redis_options == {"prefix": "api:", "cluster": False}
    assert isinstance(gate._sender, OutboxSender)
    assert gate.database_url == "postgresql+asyncpg://db/otpgate"
    assert gate.prefix == "/2fa"
    for in_memory in ("", "memory"):
        env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_DATABASE_URL": in_memory}
        assert OtpGate.from_env(env).database_url is None
    with pytest.raises(ConfigurationError, match="OTPGATE_NOPE"):
        OtpGate.from_env({"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_NOPE": "1"})


def test_from_env_arguments_win_over_the_environment():
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_STORE": "redis://a:6379/0"}
    env["OTPGATE_SENDER"] = "outbox"
    sender = OutboxSender()
    gate = OtpGate.from_env(env, redis_url="redis://b:6379/0", sender=sender)
    assert gate.redis_url == "redis://b:6379/0" and gate._sender is sender


def test_from_env_still_reads_the_old_redis_url_with_a_warning():
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_REDIS_URL": "redis://cache:6379/2"}
    with pytest.warns(DeprecationWarning, match="OTPGATE_REDIS_URL .* rename it OTPGATE_STORE"):
        gate = OtpGate.from_env(env)
    assert gate.redis_url == "redis://cache:6379/2"


async def _start(gate: OtpGate, app: FastAPI) -> None:
    async with gate.lifespan(app):
        pass


async def test_the_in_memory_store_is_announced_at_start_up_unless_in_debug(caplog):
    caplog.set_level("WARNING", logger="otpgate")
    await _start(OtpGate(SETTINGS, database_url=None), FastAPI())
    (record,) = [r for r in caplog.records if "in-memory store" in r.getMessage()]
    assert record.levelname == "WARNING" and "OTPGATE_STORE" in record.getMessage()
    caplog.clear()
    await _start(OtpGate(SETTINGS, database_url=None), FastAPI(debug=True))
    await _start(OtpGate(SETTINGS, database_url=None, single_process=True), FastAPI())
    assert not [r for r in caplog.records if "in-memory store" in r.getMessage()]


async def test_the_verifier_exists_only_while_the_lifespan_runs():
    gate = OtpGate(SETTINGS, database_url=None)
    with pytest.raises(RuntimeError, match=r"lifespan=gate\.lifespan"):
        gate.verifier  # noqa: B018
    async with gate.lifespan(None):
        assert gate.verifier.settings is SETTINGS
        with pytest.raises(RuntimeError, match="already running"):
            async with gate.lifespan(None):
                pass
    with pytest.raises(RuntimeError):
        gate.verifier  # noqa: B018


async def test_lifespan_composes_with_the_apps_own_and_events_reach_listeners():
    outbox, events, order = OutboxSender(), [], []
    gate = OtpGate(
        SETTINGS,
        store=MemoryStore(),
        sender=outbox,
        database_url=None,
        current_subject=token_subject,
    )
    gate.subscribe(events.append)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        order.append("app starts")
        async with gate.lifespan(app):
            await gate.verifier.credentials.add_phone("alice", PHONE)
            yield
        order.append("app stopped")

    app = FastAPI(lifespan=lifespan)
    gate.install(app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        started = await client.post("/otpgate/challenges", json={}, headers=ALICE)
        assert started.status_code == 201
    assert order == ["app starts", "app stopped"]
    assert [e.name.value for e in events] == ["challenge_started", "challenge_sent"]
    assert all(isinstance(e, Event) and PHONE not in repr(e) for e in events)


async def test_redis_url_is_opened_and_closed_by_the_lifespan(redis_server):
    outbox = OutboxSender()
    gate = OtpGate(
        SETTINGS,
        redis_url=redis_server.url,
        database_url=None,
        sender=outbox,
        current_subject=token_subject,
    )
    app = make_app(gate, [])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        store = gate.verifier.store
        body = {"purpose": "enroll", "phone": PHONE}
        started = (await client.post("/otpgate/challenges", json=body, headers=ALICE)).json()
        code = outbox.last_code_for(PHONE)
        checked = await client.post(
            f"/otpgate/challenges/{started['id']}/check", json={"code": code}, headers=ALICE
        )
        assert checked.status_code == 200
        assert (await client.get("/secret", headers=ALICE)).status_code == 200
        assert type(store).__name__ == "AsyncRedisStore"
        keys = [k async for k in store.client.scan_iter(match="otpgate:{s:*}:v")]
        assert keys  # the step-up state lives in Redis, in the store's keys
        for key in keys:
            assert await store.client.ttl(key) > 0
            assert b"alice" not in await store.client.get(key)  # sealed
    assert store._owned == []  # closed


async def test_factors_live_in_sql_across_restarts(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/otpgate.db"
    clock, outbox = FakeClock(), OutboxSender()

    def gate() -> OtpGate:
        return OtpGate(
            SETTINGS,
            database_url=url,
            sender=outbox,
            clock=clock,
            current_subject=token_subject,
        )

    first = gate()
    app = make_app(first, [])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        enroll = await client.post("/otpgate/totp/enrollment", json={}, headers=ALICE)
        secret = enroll.json()["secret"]
        code = pyotp.TOTP(secret).at(clock.now)
        confirmed = await client.post("/otpgate/totp/confirm", json={"code": code}, headers=ALICE)
        assert confirmed.status_code == 200
        codes = (await client.post("/otpgate/recovery-codes", headers=ALICE)).json()["codes"]

    second = gate()
    app = make_app(second, [])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with app.router.lifespan_context(app), client:
        factors = (await client.get("/otpgate/factors", headers=ALICE)).json()
        assert factors == {
            "masked_phones": [],
            "masked_emails": [],
            "totp": True,
            "recovery_codes_left": 10,
            "passkeys": [],
            "preferred": "totp",
        }
        used = await client.post(
            "/otpgate/recovery-codes/check", json={"code": codes[3]}, headers=bearer("alice.2")
        )
        assert used.status_code == 200
    assert Path(tmp_path / "otpgate.db").stat().st_size > 0


def test_from_env_ignores_the_other_integrations_and_tools_keys():
    from otpgate.integrations.fastapi import OtpGate

    env = {
        "OTPGATE_SECRET_KEYS": "a-key-of-more-than-sixteen-chars",
        "OTPGATE_STORE": "memory",  # Django's key
        "OTPGATE_INBOX_DB": "/tmp/inbox.sqlite3",  # the dev inbox's
        "OTPGATE_CODE_DIGITS": "7",
    }
    assert OtpGate.from_env(env).settings.code_digits == 7
