"""The demo sites' own defaults: no public key, every page refuses to be framed, the Flask
bank's login takes as long for an unknown name, and the API counts the connection's address
(not X-Forwarded-For) unless told which proxy to trust. Built in-process (Django in a child
process of its own: its settings are global), no browser."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from otpgate import MemoryStore, OutboxSender, Settings
from otpgate.demo import common

DENY = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
OLD_PUBLIC_KEYS = {"demo-only-not-secret", "demo-only-flask-secret"}


def denies_framing(headers: Any) -> bool:
    return all(headers.get(name) == value for name, value in DENY.items())


# -- keys -------------------------------------------------------------------------------------


def test_a_demo_key_is_the_given_one_else_random_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("DEMO_TEST_KEY", raising=False)
    assert common.demo_key("DEMO_TEST_KEY") != common.demo_key("DEMO_TEST_KEY")
    kept = tmp_path / "key"
    first = common.demo_key("DEMO_TEST_KEY", kept)
    assert common.demo_key("DEMO_TEST_KEY", kept) == first and len(first) >= 32
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    kept.chmod(0o644)  # readable by others: not a secret any more
    with pytest.raises(common.ConfigurationError):
        common.demo_key("DEMO_TEST_KEY", kept)
    monkeypatch.setenv("DEMO_TEST_KEY", "given-key-0123456789")
    assert common.demo_key("DEMO_TEST_KEY", kept) == "given-key-0123456789"


# -- Flask ------------------------------------------------------------------------------------


@pytest.fixture
def bank(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("OTPGATE_SECRET_KEYS", raising=False)
    monkeypatch.delenv("DEMO_OTPGATE_STORE", raising=False)
    from otpgate.demo import flask_bank

    return flask_bank.create_app(OutboxSender(), str(tmp_path / "bank"))


def test_the_flask_bank_makes_its_keys(bank, tmp_path, monkeypatch):
    from otpgate.demo import flask_bank

    again = flask_bank.create_app(OutboxSender(), str(tmp_path / "bank"))
    other = flask_bank.create_app(OutboxSender(), str(tmp_path / "other"))
    keys = {app.secret_key for app in (bank, again, other)}
    assert len(keys) == 3 and not keys & OLD_PUBLIC_KEYS  # a new session key each run
    otpgate_keys = [app.config["OTPGATE_SECRET_KEYS"] for app in (bank, again, other)]
    assert otpgate_keys[0] == otpgate_keys[1] != otpgate_keys[2]  # kept with the factors
    monkeypatch.setenv("SECRET_KEY", "a-key-given-by-the-operator")
    given = flask_bank.create_app(OutboxSender(), str(tmp_path / "bank"))
    assert given.secret_key == "a-key-given-by-the-operator"


def test_the_flask_bank_pages_deny_framing_and_its_cookie_is_lax(bank):
    client = bank.test_client()
    rules = [r for r in bank.url_map.iter_rules() if "GET" in r.methods and not r.arguments]
    assert len(rules) >= 4
    for rule in rules:
        response = client.get(rule.rule)
        assert denies_framing(response.headers), (rule.rule, response.status_code)
    login = client.get("/login")
    assert login.status_code == 200 and denies_framing(login.headers)
    assert "SameSite=Lax" in login.headers["Set-Cookie"]


def _csrf(client: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert match
    return match.group(1)


def test_an_unknown_user_name_costs_a_password_check_too(bank, monkeypatch):
    from otpgate.demo import flask_bank

    checked: list[str] = []
    real = flask_bank.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(flask_bank, "check_password_hash", counting)
    client = bank.test_client()
    for name in ("alice", "nobody-of-that-name"):
        form = {"username": name, "password": "wrong", "csrf_token": _csrf(client)}
        assert client.post("/login", data=form).status_code == 401
    assert len(checked) == 2  # one hash check each: the same work, the same time
    assert checked[0] != checked[1]  # the unknown name was checked against a dummy hash


def test_the_flask_bank_refuses_an_amount_that_is_not_a_number(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("OTPGATE_SECRET_KEYS", raising=False)
    monkeypatch.delenv("DEMO_OTPGATE_STORE", raising=False)
    from otpgate.demo import flask_bank

    outbox = OutboxSender()
    bank = flask_bank.create_app(outbox, str(tmp_path / "bank"))
    client = bank.test_client()
    form = {"username": "alice", "password": flask_bank.DEMO_PASSWORD, "csrf_token": _csrf(client)}
    assert client.post("/login", data=form).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/otp/verify").text)
    assert token
    client.post("/otp/verify/send", data={"csrf_token": token.group(1)})
    code = re.search(r"\b\d{6}\b", outbox.messages[-1].text)
    assert code
    verify = {"method": "sms", "code": code.group(0), "csrf_token": token.group(1)}
    assert client.post("/otp/verify", data=verify).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/transfer").text)
    assert token
    sent = len(outbox.messages)
    for amount in ("NaN", "-NaN", "sNaN", "Infinity", "1e999999", "12abc"):
        transfer = {"payee": "Bob", "amount": amount, "csrf_token": token.group(1)}
        answer = client.post("/transfer", data=transfer)
        assert answer.status_code == 400, (amount, answer.status_code)
    assert len(outbox.messages) == sent  # no code was sent for any of them


# -- Django -----------------------------------------------------------------------------------

DJANGO_PROBE = """
import json, os, django
django.setup()
from django.conf import settings
from django.test import Client
from otpgate.demo.django_site import prepare
prepare()
client = Client(HTTP_HOST="127.0.0.1")
pages = {}
for url in ["/", "/transfer/", "/settings/", "/accounts/login/", "/account/2fa/verify/",
            "/admin/login/", "/nowhere/"]:
    response = client.get(url, follow=True)
    pages[url] = {k: response.get(k) for k in ("X-Frame-Options", "Content-Security-Policy")}
login_page = client.get("/accounts/login/").content.decode()
import time
from django.contrib.auth import get_user_model
from otpgate.core.web import SESSION_KEY, SecondFactorState
user, _ = get_user_model().objects.get_or_create(username="probe")
homes = {}
for remembered in (False, True):
    client.force_login(user)
    session = client.session
    state = SecondFactorState.load(session)
    if remembered:
        state.remembered(str(user.pk), time.time())
    else:
        state.verified_subject, state.verified_at = str(user.pk), time.time()
        state.verified_factor = "sms"
    session[SESSION_KEY] = state.dump()
    session.save()
    homes[str(remembered)] = client.get("/").content.decode()
    client.logout()
print(json.dumps({"secret_key": settings.SECRET_KEY, "otpgate_keys": settings.OTPGATE_SECRET_KEYS,
                  "middleware": settings.MIDDLEWARE, "pages": pages,
                  "time_zone": settings.TIME_ZONE, "login_page": login_page, "homes": homes}))
"""


def django_demo(tmp_path: Path, **env: str) -> dict[str, Any]:
    pytest.importorskip("django")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DEMO_", "DJANGO_"))}
    clean.update(DJANGO_SETTINGS_MODULE="otpgate.demo.django_site.settings", **env)
    clean["DEMO_DATABASE"] = str(tmp_path / "demo.sqlite3")
    result = subprocess.run(
        [sys.executable, "-c", DJANGO_PROBE],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_django_demo_makes_its_keys_and_denies_framing(tmp_path):
    first, second = django_demo(tmp_path), django_demo(tmp_path)
    assert first["secret_key"] != second["secret_key"]  # per run
    assert not {first["secret_key"], second["secret_key"]} & OLD_PUBLIC_KEYS
    assert first["otpgate_keys"] == second["otpgate_keys"]  # kept beside the database
    assert stat.S_IMODE((tmp_path / "demo.sqlite3.key").stat().st_mode) == 0o600
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in first["middleware"]
    for url, headers in first["pages"].items():
        assert headers["X-Frame-Options"] == "DENY", url
    assert first["pages"]["/account/2fa/verify/"] == DENY  # otpgate's own: both headers
    given = django_demo(tmp_path, DEMO_SECRET_KEY="a-key-given-by-the-operator-123")
    assert given["secret_key"] == "a-key-given-by-the-operator-123"


def test_the_django_demo_says_utc_a_remembered_device_and_needs_no_favicon(tmp_path):
    """The new-user trial: times in America/Chicago (Django's default), "a second factor"
    after a sign-in a remembered device let through, and a 404 for /favicon.ico."""
    demo = django_demo(tmp_path)
    assert demo["time_zone"] == "UTC"
    assert '<link rel="icon" href="data:,">' in demo["login_page"]
    with_factor, remembered = demo["homes"]["False"], demo["homes"]["True"]
    assert "You signed in with your password and a second factor." in with_factor
    assert "remembered device" not in with_factor
    assert "on a remembered device" in remembered and "and a second factor" not in remembered


# -- FastAPI ----------------------------------------------------------------------------------


def test_the_payments_api_pages_deny_framing():
    pytest.importorskip("fastapi")
    from otpgate.demo import payments
    from otpgate.integrations.fastapi import OtpGate

    settings = Settings(secret_keys=("k" * 32,))
    gate = OtpGate(
        settings,
        store=MemoryStore(),
        database_url=None,
        sender=OutboxSender(),
        current_subject=payments.current_subject,
    )
    app = payments.create_app(gate)

    async def pages() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
        ):
            urls = ("/docs", "/openapi.json", "/payments/nope", "/otpgate/factors", "/nowhere")
            alice = {"Authorization": "Bearer alice-token"}
            return [await client.get(url, headers=alice) for url in urls]

    answers = asyncio.run(pages())
    assert answers[0].headers["content-type"].startswith("text/html")  # Swagger UI
    for response in answers:
        assert denies_framing(response.headers), (response.url, response.status_code)


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app answering the client address it was given."""
    body = json.dumps(scope["client"][0]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def client_seen(config: Any) -> str:
    """The client address the app sees for a loopback connection claiming to forward for
    203.0.113.9."""
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 40000))

    async def ask() -> str:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
            return str(response.json())

    return asyncio.run(ask())


def test_the_payments_api_counts_the_connections_address(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn")
    from otpgate.demo import payments

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert client_seen(uvicorn.Config(_echo)) == "203.0.113.9"  # uvicorn's default trusts it
    assert client_seen(payments.server_config(_echo)) == "127.0.0.1"
    behind = payments.server_config(_echo, forwarded_allow_ips="127.0.0.1")
    assert client_seen(behind) == "203.0.113.9"  # only when told which proxy to trust


def test_demo_sites_remember_devices_and_take_passkeys_at_localhost(monkeypatch):
    from otpgate import Settings
    from otpgate.demo.common import factor_settings
    from tests.conftest import KEY

    monkeypatch.delenv("DEMO_ORIGIN", raising=False)
    assert factor_settings() == {"OTPGATE_REMEMBER_DEVICE": True}  # no address: no passkeys
    monkeypatch.setenv("DEMO_ORIGIN", "http://localhost:8001")
    settings = Settings.from_mapping({"OTPGATE_SECRET_KEYS": KEY, **factor_settings()})
    assert settings.remember_device
    assert settings.webauthn_rp_id == "localhost"
    assert settings.webauthn_origins == ("http://localhost:8001",)


def test_the_flask_bank_confirms_a_payment_named_and_labelled_for_people(tmp_path, monkeypatch):
    """The trial's "code 816434 confirms Pay 10.00 EUR to ..." and the raw keys "amount",
    "payee" as the page's labels."""
    for name in ("SECRET_KEY", "OTPGATE_SECRET_KEYS", "DEMO_OTPGATE_STORE"):
        monkeypatch.delenv(name, raising=False)
    from otpgate.demo import flask_bank

    outbox = OutboxSender()
    bank = flask_bank.create_app(outbox, str(tmp_path / "bank"))
    client = bank.test_client()
    form = {"username": "alice", "password": flask_bank.DEMO_PASSWORD, "csrf_token": _csrf(client)}
    assert client.post("/login", data=form).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/otp/verify").text)
    assert token
    client.post("/otp/verify/send", data={"csrf_token": token.group(1)})
    code = re.search(r"\b\d{6}\b", outbox.messages[-1].text)
    assert code
    verify = {"method": "sms", "code": code.group(0), "csrf_token": token.group(1)}
    assert client.post("/otp/verify", data=verify).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/transfer").text)
    assert token
    transfer = {"payee": "Bob", "amount": "10", "csrf_token": token.group(1)}
    page = client.post("/transfer", data=transfer).text
    assert "confirms payment of 10.00 EUR to Bob." in outbox.messages[-1].text
    assert "<dt>Amount</dt><dd>10.00</dd>" in page and "<dt>Payee</dt><dd>Bob</dd>" in page
    assert "<dt>amount</dt>" not in page


def test_the_payments_api_runs_one_process_and_says_no_warning_about_workers(
    tmp_path, monkeypatch, caplog
):
    """The trial: the example logged the in-memory store's WARNING though it runs one
    process. A gate that cannot know still warns (see test_lifecycle)."""
    pytest.importorskip("fastapi")
    for name in ("OTPGATE_STORE", "OTPGATE_REDIS_URL", "DEMO_OTPGATE_STORE"):
        monkeypatch.delenv(name, raising=False)
    from otpgate.demo import payments

    gate = payments.default_gate(str(tmp_path))
    app = payments.create_app(gate)

    async def start() -> None:
        async with gate.lifespan(app):
            pass

    with caplog.at_level("WARNING", logger="otpgate"):
        asyncio.run(start())
    assert gate.single_process and not [r for r in caplog.records if "in-memory" in r.message]
