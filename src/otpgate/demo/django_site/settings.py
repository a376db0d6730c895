"""Settings of the demo site: SQLite, in-memory otpgate store, SMS printed in the terminal.

Never deploy these (``DEBUG``, the development server). No key is public: ``SECRET_KEY`` is
``$DEMO_SECRET_KEY``, else random for each run (signing in again after a restart);
``OTPGATE_SECRET_KEYS`` is ``$DEMO_OTPGATE_KEY``, else a random key kept beside the database
(it seals the authenticator-app secrets stored there). In production read both from the
environment, and use OTPGATE_STORE = "redis://...". ``DEMO_DATABASE`` picks the SQLite file;
``DEMO_OTPGATE_SENDER`` and ``DEMO_OTPGATE_STORE`` the sender and store (see
:mod:`otpgate.demo.common`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from otpgate.demo.common import (
    demo_email_sender,
    demo_key,
    demo_redis_url,
    demo_sender,
    factor_settings,
    redis_prefix,
)

# One key per run, shared with the autoreloader's child processes (they inherit it).
SECRET_KEY = os.environ.setdefault("DEMO_SECRET_KEY", demo_key("DEMO_SECRET_KEY"))
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "otpgate.integrations.django",
    "otpgate.demo.django_site",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # early, so that it sees every answer (the inner middlewares' refusals too)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "otpgate.integrations.django.middleware.OtpgateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
X_FRAME_OPTIONS = "DENY"  # no page of the site in another's frame (otpgate's say so anyway)
ROOT_URLCONF = "otpgate.demo.django_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASE = Path(
    os.environ.get("DEMO_DATABASE") or Path(tempfile.gettempdir()) / "otpgate-demo-django.sqlite3"
)
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATABASE)}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"  # Django's default is America/Chicago: show times in UTC, as the demo says
LANGUAGE_CODE = "en"
LANGUAGES = [  # every language otpgate ships (its pages, messages and texts)
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("ru", "Русский"),
    ("hi", "हिन्दी"),
    ("ar", "العربية"),
]
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# otpgate: flat OTPGATE_* settings (see otpgate.integrations.django.conf).
OTPGATE_SECRET_KEYS = [demo_key("DEMO_OTPGATE_KEY", DATABASE.with_name(DATABASE.name + ".key"))]
OTPGATE_BRAND = "otpgate demo"
OTPGATE_STORE = demo_redis_url() or "memory"  # memory: one process; Redis for several
OTPGATE_STORE_OPTIONS = {"prefix": redis_prefix("django")} if demo_redis_url() else {}
OTPGATE_SENDER = demo_sender()  # "console" unless DEMO_OTPGATE_SENDER says otherwise
OTPGATE_EMAIL_SENDER = demo_email_sender()  # the dev inbox under `otpgate demo`, else none
# "Don't ask again on this device", and passkeys at http://localhost:PORT (DEMO_ORIGIN)
globals().update(factor_settings())
OTPGATE_REQUIRED = "staff"  # staff must set up a second factor; others may
OTPGATE_ALLOWED_NUMBER_TYPES = ["MOBILE", "FIXED_LINE_OR_MOBILE"]
