"""``manage.py otpgate_reset <username>``: remove a user's second factors, lift lockouts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import runtime
from ._user import find_user


class Command(BaseCommand):
    help = (
        "Remove every second factor of a user (phones, authenticator app, recovery codes) "
        "and lift any lockout, e.g. after support verified who they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        user = find_user(options["username"])
        if not options["yes"]:
            answer = input(f"Remove every second factor of {user.get_username()}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Nothing was changed.")
        removed = runtime.get_verifier().reset(str(user.pk))
        what = ", ".join(sorted(removed)) or "nothing (no factor was set up)"
        self.stdout.write(f"{user.get_username()}: removed {what}; lockouts lifted.")
