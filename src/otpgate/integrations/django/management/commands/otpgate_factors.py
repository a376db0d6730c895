"""``manage.py otpgate_factors <username>``: a user's second factors, numbers masked."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import runtime
from ._user import find_user


class Command(BaseCommand):
    help = "Show a user's second factors (phone numbers masked; never a secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = find_user(options["username"])
        found = runtime.get_verifier().factors(str(user.pk))
        write = self.stdout.write
        write(f"user: {user.get_username()} (id {user.pk})")
        write("phones: " + (", ".join(found.masked_phones) or "none"))
        write("authenticator app: " + ("yes" if found.totp else "no"))
        write(f"recovery codes left: {found.recovery_codes_left}")
