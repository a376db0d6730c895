"""The Django site of ``bench/http_django.py``: one module that is its settings, its URLconf
and its server (``python bench/django_site.py PORT``; ``BENCH_OTPGATE=1`` installs otpgate,
``BENCH_DB`` names the SQLite file the bench prepared). Served by Django's own HTTP/1.1
keep-alive server (``django.core.servers.basehttp``, one thread): the same for both variants.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / "src" / "otpgate").is_dir():
    sys.path.insert(0, str(_ROOT / "src"))  # measure this checkout, installed or not

OTPGATE = os.environ.get("BENCH_OTPGATE") == "1"

SECRET_KEY = "otpgate-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "otpgate.integrations.django",  # its tables exist in both variants; only this one uses them
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    *(["otpgate.integrations.django.middleware.OtpgateMiddleware"] if OTPGATE else []),
]
ROOT_URLCONF = "django_site"
TEMPLATES = [
    {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True},
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "/tmp/otpgate-bench-django.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a cheap password check
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/page/"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"django.server": {"level": "ERROR"}, "django.request": {"level": "ERROR"}},
}
OTPGATE_SECRET_KEYS = ["bench-key-0123456789abcdef0123456789"]
OTPGATE_SENDER = "outbox"
OTPGATE_STORE = "memory"


def _sqlite_pragmas(sender: object, connection: object, **kwargs: object) -> None:
    """WAL without a sync per commit, as a production SQLite site would run (both sites)."""
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")


def _connect_pragmas() -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(_sqlite_pragmas, dispatch_uid="otpgate-bench-sqlite")


_connect_pragmas()


def _urls() -> list[object]:
    from django.contrib.auth import views as auth_views
    from django.contrib.auth.decorators import login_required
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import include, path

    @login_required
    def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"hello {request.user.get_username()}")

    def prepare(request: HttpRequest) -> JsonResponse:
        """``?n=``: that many sessions waiting for their second step, each with an SMS code
        sent (one user and number each, so no send budget is hit): ``[[session, code]]``."""
        return JsonResponse({"pending": pending_sessions(int(request.GET.get("n", "100")))})

    urls: list[object] = [
        path("page/", page),
        path("login/", auth_views.LoginView.as_view(template_name="bench_login.html")),
    ]
    if OTPGATE:
        urls += [path("2fa/", include("otpgate.integrations.django.urls")), path("prep/", prepare)]
    return urls


def pending_sessions(count: int) -> list[list[str]]:
    """``count`` new users with a number each, each signed in by password in a new session
    whose second step sent an SMS (this process's outbox has the code)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from otpgate.integrations.django import runtime
    from otpgate.integrations.django.models import VerifiedPhone
    from otpgate.integrations.django.session import SessionData

    model = get_user_model()
    gate, outbox = runtime.get_verifier(), runtime._parts()["sender"]
    first = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    users = model.objects.bulk_create(
        [model(username=f"pending{first + i}", password="!") for i in range(1, count + 1)]
    )
    phones = {user.pk: f"+447911{user.pk:06d}" for user in users}
    VerifiedPhone.objects.bulk_create(
        [VerifiedPhone(user_id=pk, e164=e164) for pk, e164 in phones.items()]
    )
    found = []
    for pk, e164 in phones.items():
        session = SessionStore()
        data = SessionData(session)
        data.state.begin(str(pk), gate.clock(), "/page/")
        data.state.pending_backend = "django.contrib.auth.backends.ModelBackend"
        data.state.pending_method = "sms"
        challenge = gate.start(str(pk), "sms", purpose="login")
        assert challenge is not None
        data.state.challenge_id = challenge.id
        data.save()
        session.create()
        found.append([session.session_key or "", outbox.last_code_for(e164) or ""])
    return found


def __getattr__(name: str) -> object:  # the URLconf, built once the apps are ready
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site"
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import run

    run("127.0.0.1", int(sys.argv[1]), WSGIHandler())
