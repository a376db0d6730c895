"""``manage.py otpgate_pumping list|lift PREFIX``: the SMS pumping guard's blocked ranges."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from otpgate.check.pumping import describe

from ... import runtime


class Command(BaseCommand):
    help = (
        "List the number ranges the SMS pumping guard blocks, or lift one ('+44 7700', or a "
        "country: '+44'); a lifted range starts its counts afresh."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "lift"])
        parser.add_argument("prefix", nargs="?", help="with lift: the range, e.g. '+44 7700'")

    def handle(self, *args: Any, **options: Any) -> None:
        gate = runtime.get_verifier()
        if options["action"] == "list":
            now = gate.clock()
            blocks = sorted(gate.pumping_blocks(), key=lambda b: b.label)
            for block in blocks:
                self.stdout.write(describe(block, now))
            if not blocks:
                self.stdout.write("No range is blocked.")
            return
        if not options["prefix"]:
            raise CommandError("Name the range to lift, e.g. '+44 7700'.")
        try:
            lifted = gate.lift_pumping_block(options["prefix"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not lifted:
            raise CommandError(f"{options['prefix']} was not blocked.")
        self.stdout.write(f"Lifted the block of {options['prefix']}; its counts start afresh.")
