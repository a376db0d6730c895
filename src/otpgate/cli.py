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
        help="serve the demo sites (Django, Flask, FastAPI) and the dev SMS inbox on loopback",
        description="Serves three demo sites and the dev SMS inbox on 127.0.0.1, on embedded "
        "defaults (SQLite, in-memory challenge store, every SMS in the inbox): sign-in with a "
        "second factor (Django), a transfer protected by step-up (Flask), a payment confirmed "
        "through an API (FastAPI, with its OpenAPI page). Prints the URLs and demo users; "
        'Ctrl-C stops everything. Needs the frameworks: pip install "otpgate[demo]". '
        "--terminal walks through the core in this terminal instead, with no web framework.",
    )
    demo.add_argument(
        "--framework",
        choices=["django", "flask", "fastapi"],
        help="serve only this framework's site (default: all three)",
    )
    demo.add_argument(
        "--redis",
        metavar="URL",
        help="keep challenges in this Redis (e.g. redis://localhost:6379/0) instead of memory",
    )
    demo.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port of the first site, the next ones follow (default 8000; a busy port falls "
        "back to a free one; 0: free ports only)",
    )
    demo.add_argument(
        "--inbox-port", type=int, default=8025, help="port of the SMS inbox (default 8025)"
    )
    demo.add_argument(
        "--verbose", action="store_true", help="show the sites' own output (requests, errors)"
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep this run's files (databases, inbox, logs)"
    )
    demo.add_argument(
        "--terminal",
        action="store_true",
        help="walk through SMS codes, transaction binding, an authenticator app and recovery "
        "codes in this terminal instead (no web framework needed)",
    )
    demo.add_argument(
        "--auto", action="store_true", help="with --terminal: answer every prompt automatically"
    )
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
    check = commands.add_parser(
        "check",
        help="diagnose a configuration: settings, store, gateway reachability, policy",
        description="Reads OTPGATE_* environment variables (or --settings MODULE: a Django "
        "settings module, or any module with OTPGATE_* names; or --app module:create_app: a "
        "Flask app or app factory, whose app.config is read) and reports every invalid "
        "setting by name, whether the store (OTPGATE_STORE) answers and "
        "how fast, whether each gateway behind OTPGATE_SENDER is reachable (TCP and HEAD on "
        "its base URL; nothing is sent), and the policy in force. Exit status 1 when "
        "something must be fixed.",
    )
    check.add_argument(
        "--settings",
        default="env",
        metavar="MODULE",
        help="'env' (default: OTPGATE_* environment variables) or a dotted module name",
    )
    check.add_argument(
        "--app",
        default=None,
        metavar="MODULE:NAME",
        help="a Flask app (module:app) or app factory (module:create_app, called with no "
        "arguments) whose config to read",
    )
    pumping = commands.add_parser(
        "pumping",
        help="list the number ranges the SMS pumping guard blocks, or lift a block",
        description="The SMS pumping guard pauses codes to a number range (or a country) whose "
        "sends surge while almost none of its codes are entered. 'list' shows the blocked "
        "ranges; 'lift PREFIX' (as listed: '+44 7700', or a country: '+44') lifts one and "
        "starts its counts afresh. Reads the store and keys like `otpgate check` (a Redis "
        "store: the in-memory one lives in the application's process).",
    )
    pumping.add_argument("action", choices=["list", "lift"])
    pumping.add_argument("prefix", nargs="?", help="with lift: the range, e.g. '+44 7700'")
    pumping.add_argument("--settings", default="env", metavar="MODULE", help="as for check")
    pumping.add_argument("--app", default=None, metavar="MODULE:NAME", help="as for check")
    args = parser.parse_args(argv)
    if args.command == "pumping":
        import sys

        from otpgate.check.pumping import run_pumping
        from otpgate.check.sources import from_app, load

        if args.action == "lift" and not args.prefix:
            parser.exit(2, "otpgate pumping lift: name the range, e.g. '+44 7700'\n")
        config = from_app(args.app) if args.app else load(args.settings)
        return run_pumping(config, args.action, args.prefix, sys.stdout)
    if args.command == "check":
        import sys

        from otpgate.check import run_check

        return run_check(args.settings, sys.stdout, app=args.app)
    if args.command == "inbox":
        from otpgate.inbox import RemoteBindRefused, serve_inbox

        try:
            return serve_inbox(args.db, args.host, args.port, allow_remote=args.allow_remote)
        except RemoteBindRefused as error:
            parser.exit(2, f"otpgate inbox: {error}\n")
    if args.command == "demo":
        if args.terminal or args.auto:
            from otpgate.demo.terminal import run_demo

            return run_demo(auto=args.auto)
        from otpgate.demo.launcher import run

        frameworks = [args.framework] if args.framework else ["django", "flask", "fastapi"]
        return run(
            frameworks,
            port=args.port,
            inbox_port=args.inbox_port,
            redis_url=args.redis,
            verbose=args.verbose,
            keep=args.keep,
        )
    if args.command == "keygen":
        print(generate_secret_key())
        return 0
    parser.print_help()
    return 2
