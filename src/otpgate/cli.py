"""The ``otpgate`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from otpgate.core.settings import generate_secret_key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="otpgate", description="otpgate: a second factor for Python web apps."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "keygen",
        help="print a new random key for OTPGATE_SECRET_KEYS",
        description="Print a new 256-bit key. Put it first in OTPGATE_SECRET_KEYS and keep the "
        "old keys after it until everything sealed with them was rotated.",
    )
    demo = commands.add_parser(
        "demo",
        help="walk through SMS codes, transaction binding, an authenticator app and "
        "recovery codes in this terminal",
        description="Runs otpgate's core on embedded defaults (in-memory store, SMS printed "
        "here). Answer each prompt with the code shown, or pass --auto.",
    )
    demo.add_argument("--auto", action="store_true", help="answer every prompt automatically")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from otpgate.demo import run_demo

        return run_demo(auto=args.auto)
    if args.command == "keygen":
        print(generate_secret_key())
        return 0
    parser.print_help()
    return 2
