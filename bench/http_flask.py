"""What otpgate costs a Flask app per request (a script, not a test).

    python bench/http_flask.py [--rounds 5] [--page-rounds 8] [--seconds 1]

Run from the repo root with a Python that has Flask, Flask-Login and SQLAlchemy (e.g.
``/work/main/.tox/flask31/bin/python`` with ``PYTHONPATH=src``). It serves the same small
Flask-Login app twice on loopback, each in a process of its own with werkzeug's server
(single-threaded, HTTP/1.1 keep-alive): ``plain`` without otpgate and ``otpgate`` with it
(default wiring: the credentials in SQLite through SQLAlchemy, the in-memory store), and
drives both with wrk (``bench/loadgen.py``; ``bench/bracketed.py``: rounds of one-second
slices, each otpgate page between two plain ones, its ratio over their mean; median ratio
and spread; the servers' CPU per request compared the same way, a line of its own):

- the signed-in page (``@login_required``) for a user whose second factor is done, and
  for a signed-in user with no factor enrolled (``OTPGATE_ENFORCE`` applies: the guard
  runs on every page); target >= 0.95x the plain app;
  The no-factor session's cookie carries the guard's remembered answer, as a browser's would
  after its first page; wrk replays that one cookie, so the bench sets
  ``OTPGATE_FACTOR_RECHECK`` above its own length (in a browser the one lookup per 60 s
  that remains is the cookie being renewed);
- an ``@otp_required`` page for the verified user (the issue's target covers a page of a
  user whose second factor is done behind otpgate's guard: >= 0.95x too);
- the second step's POST of a right code (an authenticator app's, one fresh user per
  request: a code is good once) against two password POSTs of the plain app, each a
  ``login_user`` and a redirect (303), printed on a line of its own:

  - ``login POST``, the filed baseline: a fixed password compared, no user record read
    (``User(request.form["username"])``); for comparison with earlier figures;
  - ``complete login POST``: what a real password step does, of the same kind as the
    Django bench's ``LoginView`` (user row read, MD5 hasher): the user's row read from the
    app's SQLite database through SQLAlchemy (a pooled engine, the app's own) and a cheap
    salted hash (MD5 of salt and password, as Django's ``MD5PasswordHasher``) compared with
    ``hmac.compare_digest``. The verdict (target >= 0.70x) is on this one.

  wrk cannot send a new code each time, so the three are timed one request at a time from
  this process over keep-alive connections (``http.client``), interleaved, in rounds: a
  ratio is of requests per second (the inverse of the mean time), median of the rounds
  with the spread. The client's own time is in every side alike. For a busy machine, the
  complete login's and the verify POST's CPU time are also compared in this process (both
  apps' WSGI callables, no server or client; the ratio is lower than over HTTP, where the
  server's and client's fixed cost is in both sides).

The pages' extra time over the plain page's is also printed as measured in this process
(WSGI calls, interleaved, medians; ``bench/flask_inprocess.py`` has more).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bracketed import compare_bracketed
from loadgen import Server, Target

SECRET = "bench-flask-secret"
KEY = "bench-key-0123456789abcdef0123456789"
PHONE = "+33612345678"


def password_digest(salt: str, password: str) -> str:
    """The bench's cheap salted hash (Django's ``MD5PasswordHasher``: MD5 of salt and
    password)."""
    return hashlib.md5((salt + password).encode()).hexdigest()


def users_table() -> Any:
    """The plain app's accounts: name, salt and digest of the password."""
    from sqlalchemy import Column, MetaData, String, Table

    return Table(
        "bench_users",
        MetaData(),
        Column("username", String(150), primary_key=True),
        Column("salt", String(32), nullable=False),
        Column("digest", String(64), nullable=False),
    )


def make_app(variant: str, database: str) -> Any:
    from flask import Flask
    from flask_login import LoginManager, UserMixin, login_required

    class User(UserMixin):
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    app = Flask("bench")
    app.config.update(SECRET_KEY=SECRET, OTPGATE_SECRET_KEYS=KEY)
    app.config["OTPGATE_DATABASE_URL"] = f"sqlite:///{database}"
    app.config["OTPGATE_FACTOR_RECHECK"] = 3600
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: User(user_id))

    @app.post("/login")
    def login() -> Any:
        from flask import redirect, request
        from flask_login import login_user

        if request.form.get("password") != "cheap":
            return "bad password", 401
        login_user(User(request.form.get("username", "")))
        return redirect("/page", code=303)

    if variant == "plain":
        from sqlalchemy import bindparam, create_engine, select

        engine = create_engine(f"sqlite:///{database}")  # the app's database, pooled
        users = users_table()
        find = select(users.c.salt, users.c.digest).where(users.c.username == bindparam("name"))

        @app.post("/login-full")
        def login_full() -> Any:
            from flask import redirect, request
            from flask_login import login_user

            name = request.form.get("username", "")
            with engine.connect() as connection:
                row = connection.execute(find, {"name": name}).first()
            given = password_digest(row.salt, request.form.get("password", "")) if row else ""
            if row is None or not hmac.compare_digest(given, row.digest):
                return "bad password", 401
            login_user(User(name))
            return redirect("/page", code=303)

    def content() -> str:
        return "a page for signed-in users"

    page = login_required(content)
    app.add_url_rule("/page", "page", page)
    app.add_url_rule("/", "home", lambda: "home")
    if variant == "otpgate":
        import logging

        from otpgate.integrations.flask import OtpGate, otp_required

        logging.getLogger("otpgate").setLevel(logging.ERROR)  # the memory store's warning
        OtpGate(app)
        # Like /page: one login_required around the view, otpgate's decorator inside it.
        app.add_url_rule("/account", "account", login_required(otp_required(content)))
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
    """A session cookie as the browser holds it after its first page: with Flask-Login's
    ``_id`` for wrk's requests (from 127.0.0.1, no User-Agent), which otherwise makes every
    response write the session anew."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()
    serializer = app.session_interface.get_signing_serializer(app)
    return f"session={serializer.dumps({'_id': identifier, **data})}"


def enroll_apps(
    database: str, count: int, prefix: str = "app-user"
) -> list[tuple[str, bytes, int]]:
    """``count`` users with a confirmed authenticator app: (subject, key, the time step of
    the code that confirmed it; a later step's code is good once)."""
    from otpgate import MemoryStore, Settings, Verifier
    from otpgate.core.totp import hotp, secret_key_bytes, totp_step
    from otpgate.sqlalchemy import SQLAlchemyCredentials
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    gate = Verifier(
        Settings(secret_keys=(KEY,)), store=MemoryStore(), credentials=SQLAlchemyCredentials(engine)
    )
    users = []
    for index in range(count):
        subject = f"{prefix}-{index}"
        key = secret_key_bytes(gate.totp.enroll(subject).secret)
        step = totp_step(time.time())
        gate.totp.confirm(subject, hotp(key, step))
        users.append((subject, key, step))
    engine.dispose()
    return users


#: Per round, the ratios of the median request times (for orientation on a busy machine: a
#: stall elsewhere weighs on a round's mean, hardly on its median): filed, complete.
TYPICAL: list[tuple[float, float]] = []


def post_rates(
    app: Any, plain: Server, gated: Server, users: list[tuple[str, bytes, int]], rounds: int
) -> list[tuple[float, float]]:
    """Per round: the verify POST's requests per second over the filed login POST's, and
    over the complete login POST's."""
    from otpgate.core.totp import hotp, totp_step
    from otpgate.core.web import SESSION_KEY, SecondFactorState

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    to_plain = http.client.HTTPConnection("127.0.0.1", plain.port)
    to_gated = http.client.HTTPConnection("127.0.0.1", gated.port)

    def timed(connection: http.client.HTTPConnection, path: str, body: str, headers: Any) -> float:
        start = time.perf_counter()
        connection.request("POST", path, body, {**form, **headers})
        response = connection.getresponse()
        response.read()
        took = time.perf_counter() - start
        if response.status != 303:
            raise RuntimeError(f"POST {path}: {response.status}")
        return took

    login = "username=alice&password=cheap"
    per_round = len(users) // rounds
    ratios = []
    for index in range(rounds):
        plain_times, full_times, verify_times = [], [], []
        for subject, key, used in users[index * per_round : (index + 1) * per_round]:
            pending = SecondFactorState()
            pending.begin(subject, time.time(), "/page")
            session = cookie(app, {"_otpgate_csrf": "t", SESSION_KEY: pending.dump()})
            code = hotp(key, max(totp_step(time.time()), used + 1))
            body = f"csrf_token=t&factor=totp&code={code}"
            verify_times.append(timed(to_gated, "/otp/verify", body, {"Cookie": session}))
            plain_times.append(timed(to_plain, "/login", login, {}))
            full_times.append(timed(to_plain, "/login-full", login, {}))
        verify = statistics.mean(verify_times)
        ratios.append((statistics.mean(plain_times) / verify, statistics.mean(full_times) / verify))
        middle = statistics.median(verify_times)
        TYPICAL.append(
            (statistics.median(plain_times) / middle, statistics.median(full_times) / middle)
        )
    return ratios


def cpu_rates(database: str, users: list[tuple[str, bytes, int]], rounds: int) -> list[float]:
    """Per round: the CPU time of a complete login POST over a verify POST's, both apps'
    WSGI callables driven in this process (no server, no client): steadier than the
    HTTP figures on a busy machine."""
    from werkzeug.test import EnvironBuilder

    from otpgate.core.totp import hotp, totp_step
    from otpgate.core.web import SESSION_KEY, SecondFactorState

    plain, gated = make_app("plain", database), make_app("otpgate", database)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def environ(path: str, body: str, headers: dict[str, str]) -> Any:
        extra = {"REMOTE_ADDR": "127.0.0.1"}
        return EnvironBuilder(
            path=path, method="POST", data=body, headers={**form, **headers}, environ_base=extra
        ).get_environ()

    def cpu(app: Any, environs: list[Any]) -> float:
        statuses: list[str] = []
        start = time.process_time()
        for one in environs:
            b"".join(app(one, lambda status, headers, info=None: statuses.append(status)))
        took = time.process_time() - start
        if any(not status.startswith("303") for status in statuses):
            raise RuntimeError(f"in process: {sorted(set(statuses))}")
        return took

    per_round, ratios = len(users) // rounds, []
    for index in range(rounds):
        verifies = []
        for subject, key, used in users[index * per_round : (index + 1) * per_round]:
            pending = SecondFactorState()
            pending.begin(subject, time.time(), "/page")
            session = cookie(plain, {"_otpgate_csrf": "t", SESSION_KEY: pending.dump()})
            code = hotp(key, max(totp_step(time.time()), used + 1))
            body = f"csrf_token=t&factor=totp&code={code}"
            verifies.append(environ("/otp/verify", body, {"Cookie": session}))
        logins = [environ("/login-full", "username=alice&password=cheap", {}) for _ in verifies]
        ratios.append(cpu(plain, logins) / cpu(gated, verifies))
    return ratios


def page_costs(
    database: str, plain_alice: str, alice: str, bob: str, rounds: int
) -> tuple[float, dict[str, tuple[float, float, float, float]]]:
    """The pages' extra time per WSGI call over the plain page's, in this process (no
    server or client; ``flask_inprocess.page_extras``): steadier than wrk's rates on a busy
    machine, and the part of them otpgate's code decides."""
    from flask_inprocess import environ, page_extras

    plain, gated = make_app("plain", database), make_app("otpgate", database)
    pages = [
        ("plain app, signed-in page", plain, environ("/page", cookies=plain_alice)),
        ("otpgate, page, factor done", gated, environ("/page", cookies=alice)),
        ("otpgate, page, no factor enrolled", gated, environ("/page", cookies=bob)),
        ("otpgate, @otp_required page, done", gated, environ("/account", cookies=alice)),
    ]
    return page_extras(pages, rounds, 150)


def add_bench_user(database: str) -> None:
    """alice, password ``cheap``, in the plain app's accounts table."""
    from sqlalchemy import create_engine, insert

    engine = create_engine(f"sqlite:///{database}")
    table = users_table()
    table.metadata.create_all(engine)
    salt = os.urandom(8).hex()
    with engine.begin() as connection:
        row = {"username": "alice", "salt": salt, "digest": password_digest(salt, "cheap")}
        connection.execute(insert(table).values(**row))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the POSTs")
    parser.add_argument("--page-rounds", type=int, default=8, help="rounds of the pages (wrk)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds of each wrk slice")
    parser.add_argument("--serve", choices=["plain", "otpgate"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--database")
    parser.add_argument("--posts", type=int, default=200, help="verify POSTs per round")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database)
        return

    from otpgate.core import factor_memory
    from otpgate.core.web import SESSION_KEY, SecondFactorState
    from otpgate.integrations.flask.web import NO_FACTOR_SESSION_KEY
    from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all

    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "otpgate.sqlite3")
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{database}")
        create_all(engine)
        SQLAlchemyCredentials(engine).add_phone("alice", PHONE)
        engine.dispose()
        add_bench_user(database)
        users = enroll_apps(database, args.posts * args.rounds)
        in_process = enroll_apps(database, 100 * args.rounds, "cpu-user")
        app = make_app("plain", database)
        signed_in = {"_user_id": "alice", "_fresh": True}
        verified = SecondFactorState(
            verified_subject="alice", verified_at=1.0, verified_factor="sms"
        )
        alice = cookie(app, {**signed_in, SESSION_KEY: verified.dump()})
        no_factor = {NO_FACTOR_SESSION_KEY: factor_memory.memory("bob", time.time())}
        bob = cookie(app, {"_user_id": "bob", "_fresh": True, **no_factor})
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
            assert plain.process is not None
            assert gated.process is not None
            pids = (plain.process.pid, gated.process.pid)
            servers = {targets[0].name: pids[0], **{t.name: pids[1] for t in targets[1:]}}
            result = compare_bracketed(
                targets, rounds=args.page_rounds, seconds=args.seconds, cpu_of=servers
            )
            posts = post_rates(app, plain, gated, users, args.rounds)
        cpu = cpu_rates(database, in_process, args.rounds)
        pages_in_process = page_costs(database, plain_alice, alice, bob, 3 * args.rounds)
        print(
            f"Flask, werkzeug single-threaded, wrk -c1, {args.page_rounds} rounds of "
            f"{args.seconds:g} s slices, each page between two plain slices, "
            f"load {os.getloadavg()[0]:.1f} (1 min)"
        )
        print(result.line(targets[0].name))
        for target in targets[1:]:
            print(result.line(target.name, 0.95))
            print(result.cpu_line(target.name))
        base, extras = pages_in_process
        print(f"{'  the pages in process, over the plain one':<52} ({base:.0f} µs per WSGI call)")
        for name, (extra, low, high, _) in extras.items():
            print(f"{'    ' + name:<52} +{extra:4.1f} µs  (spread {low:.1f}-{high:.1f})")
        per_round = len(users) // args.rounds
        filed = [pair[0] for pair in posts]
        full = [pair[1] for pair in posts]
        verdict = "ok" if statistics.median(full) >= 0.7 else "MISSED"
        print(
            f"{'verify POST (right code) vs login POST':<52} {statistics.median(filed):5.2f}x  "
            f"(spread {min(filed):.2f}-{max(filed):.2f}, {per_round} each per round, "
            "http.client; the filed baseline: no user read)"
        )
        print(
            f"{'verify POST (right code) vs complete login POST':<52} "
            f"{statistics.median(full):5.2f}x  (spread {min(full):.2f}-{max(full):.2f}; user row "
            f"through SQLAlchemy, salted MD5)  target >= 0.70: {verdict}"
        )
        typical = (
            f"{statistics.median(pair[0] for pair in TYPICAL):.2f}x / "
            f"{statistics.median(pair[1] for pair in TYPICAL):.2f}x"
        )
        print(f"{'  the same two, median request times':<52} {typical}")
        print(
            f"{'  complete login vs verify, CPU in process':<52} {statistics.median(cpu):5.2f}x  "
            f"(spread {min(cpu):.2f}-{max(cpu):.2f}; WSGI calls, no server or client)"
        )


if __name__ == "__main__":
    main()
