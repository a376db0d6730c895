"""The Django demo site: login with a second factor, a step-up page and a bound transfer.

``prepare()`` migrates the SQLite database and creates the demo users (see
:data:`otpgate.demo.common.DJANGO_USERS`); ``serve(host, port)`` runs Django's development
server on it. ``examples/django_site`` runs this site from a source checkout.
"""

from __future__ import annotations

import os

from otpgate.demo.common import DJANGO_USERS

SETTINGS_MODULE = "otpgate.demo.django_site.settings"


def prepare() -> None:
    """Migrate the database and create the demo users (idempotent)."""
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    from otpgate.integrations.django import get_verifier

    users = get_user_model()._default_manager
    for user in DJANGO_USERS:
        if users.filter(username=user.name).exists():
            continue
        staff = user.phone is None  # bob: staff, so OTPGATE_REQUIRED = "staff" applies to him
        made = users.create_user(
            user.name, f"{user.name}@example.com", user.password, is_staff=staff
        )
        if user.phone:
            get_verifier().credentials.add_phone(str(made.pk), user.phone)


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Prepare, then serve until interrupted (Django's development server, no reloader)."""
    prepare()
    from django.core.management import call_command

    call_command("runserver", f"{host}:{port}", use_reloader=False)
