"""Run each quick start of docs/quickstart as a reader would use it, against the real
framework: ``python -m tests.docs.quickstart_runners django|allauth|flask|fastapi|core WORKDIR``.

Only the application's own functions are stubbed (``check_password``, ``load_user``,
``find_user_by_token``, ``load_payment``); otpgate runs as configured by the quick start,
console sender included: codes are read from what it prints, as a developer would.
Each runs in a process of its own (Django is set up once per process).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs" / "quickstart"
PHONE = "+33612345678"
KEY = "quickstart-key-0123456789abcdef0123"


class Console:
    """Captures what the console sender prints; ``code()`` is the newest SMS's code."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @contextlib.contextmanager
    def capture(self) -> Any:
        with contextlib.redirect_stdout(self.buffer):
            yield

    def last_sms(self) -> str:
        blocks = self.buffer.getvalue().split("--- SMS to ")
        assert len(blocks) > 1, "no SMS was printed"
        return blocks[-1]

    def code(self) -> str:
        found = re.search(r"(?<!\d)\d{6}(?!\d)", self.last_sms())
        assert found, self.last_sms()
        return found.group(0)


#: The site's own templates: a base.html with the blocks otpgate's pages fill (both frameworks).
SITE_TEMPLATES = Path(__file__).resolve().parent / "site_templates"
DJANGO_BASE = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SITE_TEMPLATES = "@SITE_TEMPLATES@"
SECRET_KEY = "quickstart-not-secret"
DEBUG = True  # as startproject makes it (the in-memory store is a warning without: W003)
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "quick_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "DIRS": [SITE_TEMPLATES],  # the site's own base.html (OTPGATE_BASE_TEMPLATE)
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
""".replace("@SITE_TEMPLATES@", str(SITE_TEMPLATES))
DJANGO_URLS = """
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
"""


def run_django(work: Path, *, extra: str = "") -> None:
    # A project as `django-admin startproject` makes it, with the quick start appended.
    settings = DJANGO_BASE + (DOCS / "django_settings.py").read_text() + extra
    (work / "quick_settings.py").write_text(settings)
    (work / "quick_urls.py").write_text(DJANGO_URLS + (DOCS / "django_urls.py").read_text())
    sys.path.insert(0, str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "quick_settings"
    os.environ["OTPGATE_KEY"] = KEY
    import django
    from django.core.management import call_command
    from django.test import Client

    django.setup()
    call_command("check", fail_level="WARNING")
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User

    from otpgate.integrations.django import get_verifier

    alice = User.objects.create_user("alice", password="alice-password")
    get_verifier().credentials.add_phone(str(alice.pk), PHONE)
    console, client = Console(), Client()
    assert client.get("/account/close/").status_code == 302  # not signed in
    with console.capture():
        answer = client.post(
            "/accounts/login/", {"username": "alice", "password": "alice-password"}
        )
    assert answer.status_code == 302 and "/account/2fa/verify/" in answer["Location"], answer
    assert client.get("/account/close/").status_code == 302  # the second step is pending
    step = client.get("/account/2fa/verify/").content.decode()
    assert 'aria-label="Acme"' in step and "Sign out" in step  # inside the site's layout
    assert '<div class="otpgate">' in step and ".otpgate .otpgate-card" in step
    done = client.post("/account/2fa/verify/", {"action": "verify", "code": console.code()})
    assert done.status_code == 302, done
    assert client.get("/account/close/").content == b"Account closed."
    details = {"ref": "t-1", "amount": "250.00", "payee": "ACME"}
    with console.capture():
        page = client.post("/transfer/", details)
    assert page.status_code == 200 and b"Sent" not in page.content
    assert "confirms payment of 250.00 EUR" in console.last_sms()
    tampered = client.post("/transfer/", {**details, "amount": "9999", "otp_code": console.code()})
    assert b"Sent" not in tampered.content
    sent = client.post("/transfer/", {**details, "otp_code": console.code()})
    assert sent.content == b"Sent 250.00 EUR.", sent.content
    with console.capture():  # the same amount to the same payee again: a new transfer, a new code
        again = client.post("/transfer/", {**details, "ref": "t-2"})
    assert again.status_code == 200 and b"already completed" not in again.content, again
    assert "confirms payment of 250.00 EUR" in console.last_sms()


def _django_project(work: Path, *extra: str) -> None:
    """The Django quick start's project (a reader does it first) plus the ``extra`` quick
    starts (``drf``: drf_settings.py and drf_urls.py), set up in this process."""
    settings = DJANGO_BASE + (DOCS / "django_settings.py").read_text()
    urls = DJANGO_URLS + (DOCS / "django_urls.py").read_text()
    for name in extra:
        settings += (DOCS / f"{name}_settings.py").read_text()
        urls += (DOCS / f"{name}_urls.py").read_text()
    (work / "quick_settings.py").write_text(settings)
    (work / "quick_urls.py").write_text(urls)
    sys.path.insert(0, str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "quick_settings"
    os.environ["OTPGATE_KEY"] = KEY
    import django
    from django.core.management import call_command

    django.setup()
    call_command("check", fail_level="WARNING")
    call_command("migrate", verbosity=0)


def run_drf(work: Path) -> None:
    _django_project(work, "drf")
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from otpgate.integrations.django import get_verifier

    alice = User.objects.create_user("alice", password="alice-password")
    get_verifier().credentials.add_phone(str(alice.pk), PHONE)
    console, api = Console(), APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    refused = api.get("/api/export/")
    assert refused.status_code == 401 and refused.json()["code"] == "fresh_otp_required"
    assert "insufficient_user_authentication" in refused["WWW-Authenticate"]
    with console.capture():
        started = api.post(refused.json()["links"]["start"], {}, format="json").json()
    check = {"code": console.code(), "challenge_id": started["challenge"]["id"]}
    assert api.post("/api/2fa/verify/", check, format="json").json()["verified"] is True
    assert api.get("/api/export/").json() == {"export": "ready"}
    with console.capture():
        opened = api.post("/api/transfer/", {"amount": "250.00"}, format="json")
    assert opened.status_code == 401 and opened.json()["code"] == "confirmation_required"
    headers = {"OTP-Challenge": opened["OTP-Challenge"], "OTP-Code": console.code()}
    tampered = api.post("/api/transfer/", {"amount": "9999"}, format="json", headers=headers)
    assert tampered.json()["code"] == "context_mismatch", tampered.content
    sent = api.post("/api/transfer/", {"amount": "250.00"}, format="json", headers=headers)
    assert sent.json() == {"sent": "250.00"}, sent.content


def run_django_otp(work: Path) -> None:
    _django_project(work, "django_otp")
    import io as _io

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from otpgate.integrations.django import get_verifier

    alice = User.objects.create_superuser("alice", password="alice-password")
    device = TOTPDevice.objects.create(user=alice, name="phone app", confirmed=True)
    backup = StaticDevice.objects.create(user=alice, name="backup", confirmed=True)
    backup.token_set.create(token="abcd2345")
    out = _io.StringIO()
    call_command("otpgate_import_django_otp", stdout=out)  # a dry run: nothing written
    assert "Dry run" in out.getvalue() and not get_verifier().factors(str(alice.pk)).any
    call_command("otpgate_import_django_otp", "--apply", stdout=out)
    call_command("otpgate_import_django_otp", "--apply", stdout=out)  # again: no change
    factors = get_verifier().factors(str(alice.pk))
    assert factors.totp and factors.recovery_codes_left == 1, out.getvalue()
    client = Client()
    assert client.get("/otp-admin/").status_code == 302
    answer = client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    assert "/account/2fa/verify/" in answer["Location"], answer
    app = TOTP(device.bin_key)
    app.time = get_verifier().clock()
    code = f"{app.token():06d}"
    done = client.post("/account/2fa/verify/", {"action": "verify", "code": code})
    assert done.status_code == 302, done.content
    page = client.get("/otp-admin/")
    assert page.status_code == 200 and b"Site administration" in page.content


@dataclass
class Customer:
    id: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.id


def run_flask(work: Path) -> None:
    os.chdir(work)  # Flask(__name__) of a script: the instance folder goes beside it
    os.environ.update(SECRET_KEY="quickstart-not-secret", OTPGATE_KEY=KEY)

    def check_password(name: str, password: str) -> Customer | None:  # the app's own
        return Customer(name) if (name, password) == ("alice", "alice-password") else None

    def load_user(user_id: str) -> Customer:  # the app's own
        return Customer(user_id)

    stubs = {"check_password": check_password, "load_user": load_user}
    app = runpy.run_path(str(DOCS / "flask_app.py"), init_globals=stubs)["app"]
    from jinja2 import FileSystemLoader

    app.jinja_loader = FileSystemLoader(SITE_TEMPLATES)  # the site's templates: its base.html
    gate = app.extensions["otpgate"]
    with app.app_context():
        gate.verifier.credentials.add_phone("alice", PHONE)
    console, client = Console(), app.test_client()
    signed_out = client.post("/account/close")  # Flask-Login sends them to sign in, no 401
    assert signed_out.status_code == 302 and "/login?next=" in signed_out.headers["Location"]
    wrong = client.post("/login", data={"username": "alice", "password": "wrong"})
    assert wrong.status_code == 401, wrong  # the site's answer to a wrong password, not a 500
    login = client.post("/login", data={"username": "alice", "password": "alice-password"})
    assert login.status_code == 303 and login.headers["Location"].endswith("/otp/verify"), login
    page = client.get("/otp/verify").text
    assert 'aria-label="Acme"' in page and "Sign out" in page  # inside the site's layout
    assert '<div class="otpgate">' in page and ".otpgate .tabs" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    with console.capture():
        client.post("/otp/verify/send", data={"csrf_token": csrf})
    verified = client.post(
        "/otp/verify", data={"csrf_token": csrf, "method": "sms", "code": console.code()}
    )
    assert verified.status_code == 303, verified.text
    assert client.post("/account/close").text == "Account closed."
    details = {"ref": "t-1", "amount": "250.00", "payee": "Bob"}
    with console.capture():
        asked = client.post("/transfer", data=details)
    assert (
        "confirms payment of 250.00 EUR to Bob" in console.last_sms() and "Sent" not in asked.text
    )
    shown = re.findall(r"<dt>([^<]*)</dt>", asked.text)  # each detail named in words, no key
    assert shown == ["Reference", "Amount", "Payee"], shown
    challenge = re.search(r'name="otpgate_challenge" value="([^"]+)"', asked.text).group(1)
    confirmation = {"otpgate_challenge": challenge, "otpgate_code": console.code()}
    tampered = client.post("/transfer", data={**details, "payee": "Mallory", **confirmation})
    assert tampered.status_code == 409
    sent = client.post("/transfer", data={**details, **confirmation})
    assert sent.text == "Sent 250.00 EUR.", sent.text
    with console.capture():  # the same amount to the same payee again: a new transfer, a new code
        again = client.post("/transfer", data={**details, "ref": "t-2"})
    assert again.status_code == 200 and "already completed" not in again.text, again
    assert "confirms payment of 250.00 EUR to Bob" in console.last_sms()


@dataclass
class Payment:
    id: str
    amount: str = "250.00"
    currency: str = "EUR"
    iban: str = "DE89370400440532013000"


def run_fastapi(work: Path) -> None:
    os.chdir(work)  # the default credentials database, otpgate.db, lands here
    os.environ["OTPGATE_SECRET_KEYS"] = KEY
    from fastapi.testclient import TestClient

    async def find_user_by_token(token: str) -> Customer | None:  # the app's own
        return Customer("alice") if token == "alice-token" else None

    async def load_payment(payment_id: str) -> Payment:  # the app's own
        return Payment(payment_id)

    stubs = {"find_user_by_token": find_user_by_token, "load_payment": load_payment}
    namespace = runpy.run_path(str(DOCS / "fastapi_app.py"), init_globals=stubs)
    app, gate = namespace["app"], namespace["gate"]
    alice, console = {"Authorization": "Bearer alice-token"}, Console()
    with TestClient(app) as client:
        client.portal.call(gate.verifier.credentials.add_phone, "alice", PHONE)
        assert client.post("/payments/p-1/execute").json()["code"] == "login_required"
        with console.capture():
            first = client.post("/payments/p-1/execute", headers=alice)
        assert first.status_code == 401 and first.json()["code"] == "confirmation_required"
        assert "confirms payment of 250.00" in console.last_sms()
        headers = {**alice, "OTP-Challenge": first.headers["OTP-Challenge"]}
        done = client.post("/payments/p-1/execute", headers={**headers, "OTP-Code": console.code()})
        assert done.status_code == 200 and done.json() == {"executed": "p-1"}, done.text
        again = client.post("/payments/p-1/execute", headers={**headers, "OTP-Code": "000000"})
        assert again.status_code == 409, again.text  # executed once: its recorded outcome
        assert again.json()["code"] == "transaction_executed"
        step_up = client.delete("/account", headers=alice)
        assert step_up.status_code == 401 and "max_age" in step_up.headers["WWW-Authenticate"]
        with console.capture():
            challenge = client.post("/otpgate/challenges", json={}, headers=alice).json()["id"]
        checked = client.post(
            f"/otpgate/challenges/{challenge}/check", json={"code": console.code()}, headers=alice
        )
        assert checked.status_code == 200, checked.text
        stepped = {**alice, "OTP-Step-Up": checked.headers["OTP-Step-Up"]}
        assert client.delete("/account", headers=stepped).json() == {"closed": "alice"}
        assert client.get("/openapi.json").status_code == 200


def run_core(work: Path) -> None:
    os.chdir(work)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        runpy.run_path(str(DOCS / "core.py"))
    assert output.getvalue().splitlines() == ["invalid_code", "sms recovery"], output.getvalue()


def run_allauth(work: Path) -> None:
    # A startproject project with django-allauth and otpgate's stage: password, then the code.
    (work / "quick_settings.py").write_text(
        DJANGO_BASE + (DOCS / "allauth_settings.py").read_text()
    )
    (work / "quick_urls.py").write_text(DJANGO_URLS + (DOCS / "allauth_urls.py").read_text())
    sys.path.insert(0, str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "quick_settings"
    os.environ["OTPGATE_KEY"] = KEY
    import django
    from django.core.management import call_command
    from django.test import Client

    django.setup()
    call_command("check", fail_level="WARNING")
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User

    from otpgate.integrations.django import get_verifier

    alice = User.objects.create_user("alice", password="alice-password")
    get_verifier().credentials.add_phone(str(alice.pk), PHONE)
    console, client = Console(), Client()
    with console.capture():
        answer = client.post("/accounts/login/", {"login": "alice", "password": "alice-password"})
    assert answer.status_code == 302 and answer["Location"] == "/account/2fa/verify/", answer
    assert "_auth_user_id" not in client.session  # allauth has not signed the session in
    done = client.post("/account/2fa/verify/", {"action": "verify", "code": console.code()})
    assert done.status_code == 302 and done["Location"] == "/", done
    assert client.session["_auth_user_id"] == str(alice.pk)


def run_postgres(work: Path) -> None:
    """The PostgreSQL page: the Django quick start on its ``DATABASES`` (``PG*`` variables
    name the test's server and database), then the SQLAlchemy code (``DATABASE_URL``)."""
    run_django(work, extra=(DOCS / "postgres_django.py").read_text())
    from django.db import connection

    assert connection.vendor == "postgresql"
    import asyncio

    namespace = runpy.run_path(str(DOCS / "postgres_sqlalchemy.py"))
    gate, agate = namespace["gate"], namespace["agate"]
    codes = gate.recovery.generate("alice")
    assert gate.check_recovery("alice", codes[0]).factor == "recovery"

    async def on_asyncpg() -> None:  # the same tables through the async engine
        assert await agate.recovery.remaining("alice") == 9
        assert (await agate.check_recovery("alice", codes[1])).factor == "recovery"
        await namespace["aengine"].dispose()

    asyncio.run(on_asyncpg())
    assert gate.recovery.remaining("alice") == 8
    namespace["engine"].dispose()


RUNNERS = {
    "core": run_core,
    "django": run_django,
    "allauth": run_allauth,
    "flask": run_flask,
    "fastapi": run_fastapi,
    "postgres": run_postgres,
    "drf": run_drf,
    "django-otp": run_django_otp,
}

if __name__ == "__main__":
    RUNNERS[sys.argv[1]](Path(sys.argv[2]))
    print("quick start ok")
