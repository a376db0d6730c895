#!/usr/bin/env python
"""Run the example site in one command: ``python examples/django_site/run.py [port]``.

Creates the SQLite database, two demo users and serves http://127.0.0.1:8000/ :

- ``alice`` / ``otpgate-demo``: a verified phone (+33 6 12 34 56 78); after the password an
  SMS code is sent; it is printed in this terminal (ConsoleSender shows the number masked).
- ``bob`` / ``otpgate-demo``: staff without a second factor; OTPGATE_REQUIRED = "staff" sends
  him to set one up before anything else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "otpgate-demo"  # noqa: S105 - a demo account on a local development server
PHONE = "+33612345678"


def prepare() -> None:
    """Migrate the database and create the demo users (idempotent)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    from otpgate.integrations.django import get_verifier

    users = get_user_model()._default_manager
    if not users.filter(username="alice").exists():
        alice = users.create_user("alice", "alice@example.com", PASSWORD)
        get_verifier().credentials.add_phone(str(alice.pk), PHONE)
    if not users.filter(username="bob").exists():
        users.create_user("bob", "bob@example.com", PASSWORD, is_staff=True)


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    port = argv[0] if argv else "8000"
    prepare()
    print(
        f"otpgate demo: http://127.0.0.1:{port}/  users alice and bob, password {PASSWORD!r}\n"
        "SMS codes are printed below (set DEMO_OTPGATE_SENDER=otpgate.inbox.InboxSender and "
        "run `otpgate inbox` to read them in a browser instead).",
        flush=True,
    )
    from django.core.management import call_command

    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


if __name__ == "__main__":
    main(sys.argv[1:])
