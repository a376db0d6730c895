#!/usr/bin/env python
"""Run the example site in one command: ``python examples/django_site/run.py [port]``.

Creates the SQLite database, two demo users and serves http://127.0.0.1:8000/ :

- ``alice`` / ``otpgate-demo``: a verified phone (+33 6 12 34 56 78); after the password an
  SMS code is sent; it is printed in this terminal (ConsoleSender shows the number masked).
- ``bob`` / ``otpgate-demo``: staff without a second factor; OTPGATE_REQUIRED = "staff" sends
  him to set one up before anything else.

The site's code is ``src/otpgate/demo/django_site/`` (what ``otpgate demo`` serves).
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
    from otpgate.demo.django_site import prepare

    prepare()


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    port = argv[0] if argv else "8000"
    prepare()
    print(
        f"otpgate demo: http://127.0.0.1:{port}/  users alice and bob, password {PASSWORD!r}\n"
        "SMS codes are printed below (set DEMO_OTPGATE_SENDER=inbox and run `otpgate inbox` "
        "to read them in a browser instead, or run `otpgate demo`).",
        flush=True,
    )
    from django.core.management import call_command

    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


if __name__ == "__main__":
    main(sys.argv[1:])
