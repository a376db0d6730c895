"""What otpgate costs a Flask app per request (a script, not a test).

    python bench/http_flask.py [--rounds 5] [--seconds 2]

Run from the repo root with a Python that has Flask, Flask-Login and SQLAlchemy (e.g.
``/work/main/.tox/flask31/bin/python`` with ``PYTHONPATH=src``). It serves the same small
Flask-Login app twice on loopback, each in a process of its own with werkzeug's server
(single-threaded, HTTP/1.1 keep-alive): ``plain`` without otpgate and ``otpgate`` with it
(default wiring: the credentials in SQLite through SQLAlchemy, the in-memory store), and
drives both with wrk (``bench/loadgen.py``: interleaved rounds, median ratio and spread):

- the signed-in page (``@login_required``) for a user whose second factor is done, and
  for a signed-in user with no factor enrolled (``OTPGATE_ENFORCE`` applies: the guard
  runs on every page); target >= 0.95x the plain app;
- an ``@otp_required`` page for the verified user (for orientation).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import Server, Target, compare

SECRET = "bench-flask-secret"
KEY = "bench-key-0123456789abcdef0123456789"
PHONE = "+33612345678"


def make_app(variant: str, database: str) -> Any:
    from flask import Flask
    from flask_login import LoginManager, UserMixin, login_required

    class User(UserMixin):
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    app = Flask("bench")
    app.config.update(SECRET_KEY=SECRET, OTPGATE_SECRET_KEYS=KEY)
    app.config["OTPGATE_DATABASE_URL"] = f"sqlite:///{database}"
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: User(user_id))
    page = login_required(lambda: "a page for signed-in users")
    app.add_url_rule("/page", "page", page)
    app.add_url_rule("/", "home", lambda: "home")
    if variant == "otpgate":
        import logging

        from otpgate.integrations.flask import OtpGate, otp_required

        logging.getLogger("otpgate").setLevel(logging.ERROR)  # the memory store's warning
        OtpGate(app)
        app.add_url_rule("/account", "account", login_required(otp_required(page)))
    return app


def serve(variant: str, port: int, database: str) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", port, make_app(variant, database), request_handler=Quiet)
    server.serve_forever()


def cookie(app: Any, data: dict[str, Any]) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return f"session={serializer.dumps(data)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--serve", choices=["plain", "otpgate"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--database")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database)
        return

    from otpgate.core.web import SESSION_KEY, SecondFactorState
    from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all

    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "otpgate.sqlite3")
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{database}")
        create_all(engine)
        SQLAlchemyCredentials(engine).add_phone("alice", PHONE)
        engine.dispose()
        app = make_app("plain", database)
        signed_in = {"_user_id": "alice", "_fresh": True}
        verified = SecondFactorState(
            verified_subject="alice", verified_at=1.0, verified_factor="sms"
        )
        alice = cookie(app, {**signed_in, SESSION_KEY: verified.dump()})
        bob = cookie(app, {"_user_id": "bob", "_fresh": True})
        plain_alice = cookie(app, signed_in)
        command = [sys.executable, __file__, "--port", "{port}", "--database", database]
        with (
            Server([*command, "--serve", "plain"]) as plain,
            Server([*command, "--serve", "otpgate"]) as gated,
        ):
            targets = [
                Target("plain app, signed-in page", plain.url("/page"), {"Cookie": plain_alice}),
                Target("otpgate, page, factor done", gated.url("/page"), {"Cookie": alice}),
                Target("otpgate, page, no factor enrolled", gated.url("/page"), {"Cookie": bob}),
                Target(
                    "otpgate, @otp_required page, done", gated.url("/account"), {"Cookie": alice}
                ),
            ]
            result = compare(targets, rounds=args.rounds, seconds=args.seconds)
        print(
            f"Flask, werkzeug single-threaded, wrk -c1, {args.rounds} rounds of {args.seconds:g} s"
        )
        print(result.line(targets[0].name))
        for target in targets[1:3]:
            print(result.line(target.name, 0.95))
        print(result.line(targets[3].name))


if __name__ == "__main__":
    main()
