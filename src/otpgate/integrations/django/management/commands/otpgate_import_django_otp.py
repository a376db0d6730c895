"""``manage.py otpgate_import_django_otp``: users of django-otp / django-two-factor-auth keep
their authenticator app, backup tokens and phone numbers in otpgate (see ``importer.py``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import importer, runtime


class Command(BaseCommand):
    help = (
        "Import django-otp TOTP devices (as authenticator apps), static tokens (as recovery "
        "codes, stored hashed) and django-two-factor-auth phone devices (as verified phones) "
        "into otpgate, keeping users enrolled. Dry run unless --apply; users who already have "
        "a factor in otpgate keep it, so running it twice changes nothing. Devices otpgate "
        "cannot use are listed with the reason (exit status 1). Never prints a secret or a "
        "full phone number."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Write to otpgate's tables (default: only say what would be imported).",
        )
        parser.add_argument(
            "--user",
            action="append",
            default=[],
            metavar="USERNAME",
            help="Import only this user (repeat for several).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        models = importer.sources()
        if not models:
            raise CommandError(
                "Nothing to import from: add django-otp's apps (django_otp.plugins.otp_totp, "
                "django_otp.plugins.otp_static) or django-two-factor-auth's to INSTALLED_APPS."
            )
        apply: bool = options["apply"]
        gate = runtime.get_verifier()
        verb = "imported" if apply else "would import"
        totals = importer.Report()
        users = 0
        for user in importer.users_to_import(models, options["user"]):
            users += 1
            report = importer.import_user(gate, models, user, apply)
            for line in report.lines:
                text = f"{line.user}: {line.factor}: "
                if line.kind == "imported":
                    self.stdout.write(text + f"{verb} {line.text}")
                elif line.kind == "skipped":
                    self.stdout.write(text + f"skipped, {line.text}")
                else:
                    self.stderr.write(text + f"REFUSED {line.text}")
            totals.lines += report.lines
        done = totals.count("imported")
        summary = (
            f"{users} user(s): {done} factor(s) {verb}, {totals.count('skipped')} skipped, "
            f"{totals.count('refused')} refused."
        )
        self.stdout.write(summary if apply else summary + " Dry run: add --apply to write.")
        if totals.count("refused"):
            raise CommandError(
                "Some devices cannot be used by otpgate (see REFUSED above); those users "
                "need to set up that factor again."
            )
