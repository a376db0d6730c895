"""Django settings for otpgate's Django tests (an in-memory SQLite site with the admin, and
PostgreSQL for the tests that ask for it)."""

from __future__ import annotations

SECRET_KEY = "otpgate-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "otpgate.integrations.django",
    # Django REST framework and django-otp (tests/integrations/django/test_drf*.py,
    # test_django_otp.py): their models only; their middleware is added by those tests.
    "rest_framework",
    "rest_framework.authtoken",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",  # django-two-factor-auth's PhoneDevice (otpgate_import_django_otp)
    "two_factor.plugins.phonenumber",
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
ROOT_URLCONF = "tests.integrations.django.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # The session's PostgreSQL server (tests/postgres.py): the conftest fills in its port when
    # a test asks for this database; tests choose it with the ``orm_database`` fixture.
    "postgres": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "otpgate",
        "USER": "otpgate",
        "HOST": "127.0.0.1",
        "PORT": "",
    },
}
DATABASE_ROUTERS = ["tests.integrations.django.routing.Switch"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

OTPGATE_SECRET_KEYS = ["django-tests-key-0123456789abcdef"]
OTPGATE_BRAND = "Acme"
OTPGATE_SENDER = "outbox"
OTPGATE_STORE = "memory"
OTPGATE_REQUIRED = "optional"
TWO_FACTOR_PATCH_ADMIN = False  # the tests' admin stays Django's (and otpgate's)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "EXCEPTION_HANDLER": "otpgate.integrations.django.drf.exception_handler",
}
