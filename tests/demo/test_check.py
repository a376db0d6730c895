"""``otpgate check``: each problem named with what to do, a real Redis timed, gateways reached
without sending anything, a Django settings module, and the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from otpgate import generate_secret_key

KEY = generate_secret_key()


def check(tmp_path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTPGATE_", "DJANGO_"))}
    base["PYTHONPATH"] = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "otpgate", "check", *args],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_invalid_setting_is_named_with_its_bound(tmp_path):
    result = check(
        tmp_path,
        {"OTPGATE_CODE_DIGITS": "4", "OTPGATE_CODE_LIFETME": "60", "OTPGATE_SECRET_KEYS": "short"},
    )
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "✗ settings  OTPGATE_CODE_DIGITS: must be between 6 and 10, got 4" in out
    assert "OTPGATE_CODE_LIFETME: unknown setting" in out
    assert "Remove OTPGATE_CODE_LIFETME or correct its name" in out
    assert "OTPGATE_SECRET_KEYS: each key needs at least 16 characters" in out
    assert "3 problems: fix them and run `otpgate check` again." in out
    assert "Policy" not in out  # no policy to show from invalid settings


def test_missing_keys_say_to_run_keygen(tmp_path):
    result = check(tmp_path, {})
    assert result.returncode == 1
    assert "OTPGATE_SECRET_KEYS is not set" in result.stdout
    assert "Run `otpgate keygen`" in result.stdout


def test_a_valid_configuration_shows_its_policy_and_warnings(tmp_path):
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_CODE_DIGITS": "8", "OTPGATE_SENDER": "console"}
    env["OTPGATE_ALLOWED_NUMBER_TYPES"] = "MOBILE,VOIP"
    result = check(tmp_path, env)
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert "✓ settings  3 OTPGATE_* settings valid" in out
    assert "! store     in-memory store" in out
    assert "! gateway   the console sender prints each SMS: development only" in out
    assert "number types VOIP are allowed" in out
    assert " * SMS code               8 digits, 300 s, 5 checks" in out
    assert "   budget per phone       5 per 15 min, 10 per day (each user's own)" in out
    assert "   enrollment per phone   5 per day (all users together)" in out
    assert "international networks (001): refused" in out
    assert "No problem found (4 warnings)." in out
    assert KEY not in out  # never print a key


def test_allowing_international_networks_is_shown_and_warned_about(tmp_path):
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_SENDER": "console"}
    env["OTPGATE_ALLOW_INTERNATIONAL_NETWORKS"] = "true"
    env["OTPGATE_ENROLLMENT_BUDGET"] = "3/24h"
    result = check(tmp_path, env)
    assert result.returncode == 0, result.stdout
    out = " ".join(result.stdout.split())  # unwrapped
    assert "numbers of the international networks (region 001" in out
    assert "international networks (001): allowed" in out
    assert "* enrollment per phone 3 per day (all users together)" in out
    bad = check(tmp_path, {**env, "OTPGATE_ENROLLMENT_BUDGET": "5/h"})
    assert bad.returncode == 1
    assert "OTPGATE_ENROLLMENT_BUDGET: must allow at most 20 codes a day" in bad.stdout


def test_redis_is_pinged_and_timed(tmp_path):
    from tests.redis.servers import redis_server

    server = redis_server(tmp_path / "redis").start()
    try:
        result = check(tmp_path, {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_STORE": server.url})
        assert result.returncode == 0, result.stdout
        out = " ".join(result.stdout.split())  # unwrapped
        assert f"✓ store Redis at {server.url} answers PING (median" in out
        assert "scripts loaded" in out
    finally:
        server.stop()
    down = check(tmp_path, {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_REDIS_URL": server.url})
    assert down.returncode == 1
    assert f"✗ store     Redis at 127.0.0.1:{server.port}" not in down.stdout
    assert f"Redis at redis://127.0.0.1:{server.port}/0 does not answer" in down.stdout
    assert "Start Redis or fix OTPGATE_REDIS_URL" in down.stdout


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_HEAD(self) -> None:
        Recorder.seen.append((self.command, self.path))
        self.send_response(404)
        self.end_headers()

    do_GET = do_POST = do_HEAD

    def log_message(self, *args: object) -> None:
        pass


def test_gateways_are_reached_without_sending(tmp_path):
    pytest.importorskip("httpx")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up = f"http://127.0.0.1:{server.server_port}"
    server_down = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    down = f"http://127.0.0.1:{server_down.server_port}"
    server_down.server_close()  # nobody listens there any more
    (tmp_path / "sms_setup.py").write_text(
        textwrap.dedent(
            f"""
            from otpgate.gateways import FailoverSender, KannelGateway, KannelSender
            from otpgate.gateways import VonageGateway, VonageSender

            def make_sender():
                kannel = KannelGateway({up!r}, "otp", "kannel-password", "Acme")
                vonage = VonageGateway("key", "vonage-secret", "Acme", base_url={down!r})
                return FailoverSender([KannelSender(kannel), VonageSender(vonage)])
            """
        )
    )
    try:
        env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_SENDER": "sms_setup.make_sender"}
        result = check(tmp_path, env)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stdout
    assert f"✓ gateway   kannel: {up} answers (TCP" in result.stdout
    assert "HEAD / → HTTP 404" in result.stdout
    assert f"✗ gateway   vonage: cannot connect to {down} (ConnectionRefusedError)" in result.stdout
    assert Recorder.seen == [("HEAD", "/")]  # no sendsms, no credentials, no message
    assert "kannel-password" not in result.stdout and "vonage-secret" not in result.stdout


def test_a_sender_that_cannot_be_built_is_named(tmp_path):
    result = check(tmp_path, {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_SENDER": "nowhere.make"})
    assert result.returncode == 1
    assert "OTPGATE_SENDER: cannot build 'nowhere.make' (ModuleNotFoundError" in result.stdout


def test_a_django_settings_module(tmp_path):
    pytest.importorskip("django")
    (tmp_path / "site_settings.py").write_text(
        textwrap.dedent(
            f"""
            SECRET_KEY = "test"
            INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth",
                              "otpgate.integrations.django"]
            DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                      "NAME": ":memory:"}}}}
            OTPGATE_SECRET_KEYS = [{KEY!r}]
            OTPGATE_CODE_LIFETIME = 900
            OTPGATE_REQUIRED = "staff"
            """
        )
    )
    result = check(tmp_path, {}, "--settings", "site_settings")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "otpgate check: Django settings site_settings" in result.stdout
    assert "OTPGATE_CODE_LIFETIME: must be between 30 and 600, got 900" in result.stdout
    assert "! gateway   the console sender prints each SMS" in result.stdout  # Django's default


def test_a_module_that_cannot_be_imported(tmp_path):
    result = check(tmp_path, {}, "--settings", "no_such_settings")
    assert result.returncode == 1
    assert "cannot import 'no_such_settings'" in result.stdout


def test_check_has_help(tmp_path):
    result = check(tmp_path, {}, "--help")
    assert result.returncode == 0
    assert "--settings" in result.stdout and "OTPGATE_SENDER" in result.stdout
    assert "--app" in result.stdout and "module:create_app" in result.stdout


def test_an_old_name_is_a_warning_naming_the_new_one(tmp_path):
    env = {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_SENDER": "console"}
    result = check(tmp_path, {**env, "OTPGATE_REDIS_URL": "memory"})
    assert result.returncode == 0, result.stdout
    out = " ".join(result.stdout.split())
    assert "! settings OTPGATE_REDIS_URL is deprecated: rename it OTPGATE_STORE" in out


FACTORY = """
import os
from flask import Flask
from otpgate.integrations.flask import OtpGate

def create_app():
    app = Flask(__name__, instance_path=os.path.abspath("instance"))
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS={key!r}, OTPGATE_CODE_LIFETIME=900)
    app.config.update(OTPGATE_STORE={store!r}, OTPGATE_SENDER="console", OTPGATE_CODE_DIGIT=6)
    OtpGate(app)
    return app

app = create_app()
"""


@pytest.mark.parametrize("target", ["bank:create_app", "bank:app", "bank"])
def test_a_flask_app_or_app_factory(tmp_path, target):
    pytest.importorskip("flask")
    (tmp_path / "bank.py").write_text(FACTORY.format(key=KEY, store="memory"))
    result = check(tmp_path, {}, "--app", target)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"otpgate check: Flask app {target}" in result.stdout
    assert "OTPGATE_CODE_LIFETIME: must be between 30 and 600, got 900" in result.stdout
    assert "OTPGATE_CODE_DIGIT: unknown setting" in result.stdout  # every problem at once
    assert "! store     in-memory store" in result.stdout
    assert "! gateway   the console sender prints each SMS" in result.stdout


def test_a_flask_factory_s_redis_store_is_probed(tmp_path):
    pytest.importorskip("flask")
    pytest.importorskip("redis")
    (tmp_path / "bank.py").write_text(FACTORY.format(key=KEY, store="redis://127.0.0.1:1/0"))
    result = check(tmp_path, {}, "--app", "bank:create_app")
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in result.stdout
    assert "Start Redis or fix OTPGATE_STORE" in result.stdout
    assert not (tmp_path / "instance").exists()  # nothing built: no database file


def test_a_flask_app_s_store_and_sender_given_in_code(tmp_path):
    pytest.importorskip("flask")
    (tmp_path / "shop.py").write_text(
        "from flask import Flask\n"
        "from otpgate import OutboxSender\n"
        "from otpgate.integrations.flask import OtpGate\n"
        "class RedisStore:  # stands for a store made in code\n"
        "    pass\n"
        "gate = OtpGate(sender=OutboxSender())\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        f"    app.config.update(OTPGATE_SECRET_KEYS={KEY!r})\n"
        "    gate.init_app(app, store=RedisStore())\n"
        "    return app\n"
    )
    result = check(tmp_path, {}, "--app", "shop:create_app")
    out = " ".join(result.stdout.split())
    assert "! store the app was given a RedisStore in code: not probed" in out
    assert "OutboxSender: a development sender" in out


def test_a_flask_factory_that_fails_is_reported(tmp_path):
    (tmp_path / "broken.py").write_text("def create_app():\n    raise KeyError('SECRET_KEY')\n")
    result = check(tmp_path, {}, "--app", "broken:create_app")
    assert result.returncode == 1
    assert "broken:create_app: KeyError: 'SECRET_KEY'" in result.stdout
    nothing = check(tmp_path, {}, "--app", "broken:make")
    assert "'broken' has no 'make'" in nothing.stdout


def test_the_console_script_finds_the_app_in_the_working_directory(tmp_path):
    """``otpgate check --app bank:create_app`` from the app's folder, as ``flask`` would run
    it: no PYTHONPATH needed (a console script's path starts at its own folder)."""
    pytest.importorskip("flask")
    (tmp_path / "bank.py").write_text(FACTORY.format(key=KEY, store="memory"))
    script = Path(sys.executable).with_name("otpgate")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTPGATE_", "PYTHONPATH"))}
    result = subprocess.run(
        [str(script), "check", "--app", "bank:create_app"],
        env=base,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "OTPGATE_CODE_LIFETIME: must be between 30 and 600, got 900" in result.stdout, (
        result.stdout + result.stderr
    )
