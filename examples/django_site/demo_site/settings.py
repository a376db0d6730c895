"""Settings of the example site: SQLite, in-memory otpgate store, SMS printed in the terminal.

Never deploy these: the keys below are public. In production read SECRET_KEY and
OTPGATE_SECRET_KEYS from the environment, and use OTPGATE_STORE = "redis://...".
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "otpgate.integrations.django",
    "demo_site",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "otpgate.integrations.django.middleware.OtpgateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "demo_site.urls"
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
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(BASE_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# otpgate: flat OTPGATE_* settings (see otpgate.integrations.django.conf).
OTPGATE_SECRET_KEYS = [os.environ.get("DEMO_OTPGATE_KEY", "demo-only-key-0123456789abcdef")]
OTPGATE_BRAND = "otpgate demo"
OTPGATE_STORE = "memory"  # one process; "redis://localhost:6379/0" for several
OTPGATE_SENDER = os.environ.get("DEMO_OTPGATE_SENDER", "console")
OTPGATE_REQUIRED = "staff"  # staff must set up a second factor; others may
OTPGATE_ALLOWED_NUMBER_TYPES = ["MOBILE", "FIXED_LINE_OR_MOBILE"]
