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
    inbox = commands.add_parser(
        "inbox",
        help="serve the development SMS inbox (every SMS an InboxSender stored) on a local "
        "web page and JSON API",
        description="Shows every SMS sent through otpgate.inbox.InboxSender, per number and "
        "newest first, with the code ready to copy; the page refreshes by itself. JSON: "
        "GET /api/messages?to=+33..., GET /api/messages/latest?to=+33... . Development only: "
        "it shows codes, so it binds to loopback addresses unless --allow-remote is given.",
    )
    inbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    inbox.add_argument("--port", type=int, default=8025, help="port to bind (default 8025)")
    inbox.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="the inbox's SQLite file (default $OTPGATE_INBOX_DB or ./otpgate-inbox.sqlite3)",
    )
    inbox.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback address; anyone who can reach it reads every code",
    )
    args = parser.parse_args(argv)
    if args.command == "inbox":
        from otpgate.inbox import RemoteBindRefused, serve_inbox

        try:
            return serve_inbox(args.db, args.host, args.port, allow_remote=args.allow_remote)
        except RemoteBindRefused as error:
            parser.exit(2, f"otpgate inbox: {error}\n")
    if args.command == "demo":
        from otpgate.demo import run_demo

        return run_demo(auto=args.auto)
    if args.command == "keygen":
        print(generate_secret_key())
        return 0
    parser.print_help()
    return 2
