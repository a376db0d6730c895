"""What otpgate costs a Flask app per request, measured in this process (a script, not a test).

    python bench/flask_inprocess.py [--rounds 15] [--calls 300] [--posts 150]
    python bench/flask_inprocess.py --profile verify|page|nofactor|account

Run from the repo root like ``bench/http_flask.py`` (whose apps and cookies it uses: the
same ``make_app``, the same session cookies). No server, no client: each request is one
call of the app's WSGI callable, so the figures are the apps' own CPU and not the HTTP
stack's, and a busy machine moves them much less than the HTTP bench's.

- the three pages (factor done, no factor enrolled, ``@otp_required``) against the plain
  app's signed-in page: per round, ``--calls`` calls of each, interleaved in small
  batches; a page's time is the median of its calls; the extra is otpgate's page minus
  the plain page in the same round, reported as the median over the rounds (with the
  spread), in microseconds and as a ratio of WSGI times (the HTTP ratio is closer to 1:
  the server's and client's fixed cost is in both sides);
- the verify POST of a right code (one fresh user per call) against the plain app's
  complete login POST: CPU time (``time.process_time``) per round, ratio median.

``--profile`` runs pyinstrument (``pip install pyinstrument``) over one of the requests and
prints where otpgate's side spends its time.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_flask import PHONE, add_bench_user, cookie, enroll_apps, make_app

Environ = dict[str, Any]


def environ(path: str, method: str = "GET", body: str = "", cookies: str = "") -> Environ:
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": cookies} if cookies else {}
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return EnvironBuilder(
        path=path,
        method=method,
        data=body or None,
        headers=headers,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()


def call(app: Any, one: Environ) -> str:
    """One WSGI call; its status."""
    statuses: list[str] = []
    b"".join(app(one, lambda status, headers, info=None: statuses.append(status)))
    return statuses[0]


def page_time(app: Any, template: Environ, calls: int, expect: str) -> list[float]:
    """Seconds per call (perf_counter), ``calls`` of them (a fresh copy of the environ each)."""
    times = []
    for _ in range(calls):
        one = dict(template)
        start = time.perf_counter()
        status = call(app, one)
        times.append(time.perf_counter() - start)
        if not status.startswith(expect):
            raise RuntimeError(f"{template['PATH_INFO']}: {status}")
    return times


def setup(folder: str, users: int) -> dict[str, Any]:
    from otpgate.core import factor_memory
    from otpgate.core.web import SESSION_KEY, SecondFactorState
    from otpgate.integrations.flask.web import NO_FACTOR_SESSION_KEY
    from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all
    from sqlalchemy import create_engine

    database = os.path.join(folder, "otpgate.sqlite3")
    engine = create_engine(f"sqlite:///{database}")
    create_all(engine)
    SQLAlchemyCredentials(engine).add_phone("alice", PHONE)
    engine.dispose()
    add_bench_user(database)
    enrolled = enroll_apps(database, users, "cpu-user")
    plain, gated = make_app("plain", database), make_app("otpgate", database)
    signed_in = {"_user_id": "alice", "_fresh": True}
    verified = SecondFactorState(verified_subject="alice", verified_at=1.0, verified_factor="sms")
    alice = cookie(plain, {**signed_in, SESSION_KEY: verified.dump()})
    no_factor = {NO_FACTOR_SESSION_KEY: factor_memory.memory("bob", time.time())}
    bob = cookie(plain, {"_user_id": "bob", "_fresh": True, **no_factor})
    plain_alice = cookie(plain, signed_in)
    return {
        "database": database,
        "users": enrolled,
        "plain": plain,
        "gated": gated,
        "pages": [
            ("plain app, signed-in page", plain, environ("/page", cookies=plain_alice)),
            ("otpgate, page, factor done", gated, environ("/page", cookies=alice)),
            ("otpgate, page, no factor enrolled", gated, environ("/page", cookies=bob)),
            ("otpgate, @otp_required page, done", gated, environ("/account", cookies=alice)),
        ],
    }


def verify_environs(plain: Any, users: list[tuple[str, bytes, int]]) -> list[Environ]:
    from otpgate.core.totp import hotp, totp_step
    from otpgate.core.web import SESSION_KEY, SecondFactorState

    made = []
    for subject, key, used in users:
        pending = SecondFactorState()
        pending.begin(subject, time.time(), "/page")
        session = cookie(plain, {"_otpgate_csrf": "t", SESSION_KEY: pending.dump()})
        code = hotp(key, max(totp_step(time.time()), used + 1))
        body = f"csrf_token=t&factor=totp&code={code}"
        made.append(environ("/otp/verify", "POST", body, session))
    return made


def cpu(app: Any, environs: list[Environ]) -> float:
    start = time.process_time()
    for one in environs:
        status = call(app, one)
        if not status.startswith("303"):
            raise RuntimeError(f"in process: {status}")
    return time.process_time() - start


def login_environs(count: int, cookies: str = "") -> list[Environ]:
    """``count`` complete login POSTs; ``cookies``: the session cookie they carry (none: as
    the HTTP bench's)."""
    body = "username=alice&password=cheap"
    return [environ("/login-full", "POST", body, cookies) for _ in range(count)]


def csrf_cookie(plain: Any) -> str:
    """A session as a sign-in form with a CSRF token leaves it (Flask-WTF keeps a 40-digit
    hex token in the session), for ``--login-cookie``."""
    return cookie(plain, {"csrf_token": os.urandom(20).hex()})


def page_extras(
    pages: list[tuple[str, Any, Environ]], rounds: int, calls: int
) -> tuple[float, dict[str, tuple[float, float, float, float]]]:
    """The first page's median time per call, and for each other page: its median extra
    over the first (µs, median of the rounds), the extra's spread (lowest, highest) and the
    median ratio of the times (the first's over its)."""
    for _, app, template in pages:
        page_time(app, template, 20, "200")  # warm
    batch = 10
    medians: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    for _ in range(rounds):
        times: dict[str, list[float]] = {name: [] for name, _, _ in pages}
        for _ in range(calls // batch):
            for name, app, template in pages:
                times[name] += page_time(app, template, batch, "200")
        for name in medians:
            medians[name].append(statistics.median(times[name]))
    plain = medians[pages[0][0]]
    found = {}
    for name, _, _ in pages[1:]:
        extra = [(own - ref) * 1e6 for own, ref in zip(medians[name], plain, strict=True)]
        ratio = [ref / own for own, ref in zip(medians[name], plain, strict=True)]
        found[name] = (statistics.median(extra), min(extra), max(extra), statistics.median(ratio))
    return statistics.median(plain) * 1e6, found


def measure_pages(pages: list[tuple[str, Any, Environ]], rounds: int, calls: int) -> None:
    base, found = page_extras(pages, rounds, calls)
    print(f"{pages[0][0]:<40} {base:7.1f} µs per call (WSGI)")
    for name, (extra, low, high, ratio) in found.items():
        print(
            f"{name:<40} {base + extra:7.1f} µs, extra {extra:5.1f} µs "
            f"(spread {low:.1f}-{high:.1f}), {ratio:.3f}x"
        )


def measure_posts(
    plain: Any, gated: Any, users: list[Any], rounds: int, login_cookie: bool = False
) -> None:
    per_round = len(users) // rounds
    ratios, verify_us, login_us = [], [], []
    carried = csrf_cookie(plain) if login_cookie else ""
    for index in range(rounds):
        verifies = verify_environs(plain, users[index * per_round : (index + 1) * per_round])
        logins = login_environs(len(verifies), carried)
        login_cpu, verify_cpu = cpu(plain, logins), cpu(gated, verifies)
        ratios.append(login_cpu / verify_cpu)
        verify_us.append(verify_cpu / per_round * 1e6)
        login_us.append(login_cpu / per_round * 1e6)
    print(
        f"{'complete login POST':<40} {statistics.median(login_us):7.1f} µs CPU\n"
        f"{'verify POST (right code)':<40} {statistics.median(verify_us):7.1f} µs CPU, "
        f"complete login vs verify {statistics.median(ratios):.3f}x "
        f"(spread {min(ratios):.3f}-{max(ratios):.3f}; {per_round} each per round)"
    )


def profile(kind: str, made: dict[str, Any], count: int) -> None:
    from pyinstrument import Profiler  # type: ignore[import-not-found]

    gated = made["gated"]
    if kind == "verify":
        environs = verify_environs(made["plain"], made["users"][:count])
        run: Callable[[], object] = lambda: cpu(gated, environs)  # noqa: E731
    else:
        index = {"page": 1, "nofactor": 2, "account": 3}[kind]
        _, app, template = made["pages"][index]
        run = lambda: page_time(app, template, count, "200")  # noqa: E731
    run() if kind != "verify" else None  # warm (a verify POST's users are good once)
    profiler = Profiler(interval=0.0001)
    profiler.start()
    run()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300, help="calls of each page per round")
    parser.add_argument("--posts", type=int, default=150, help="verify POSTs per round")
    parser.add_argument("--profile", choices=["verify", "page", "nofactor", "account"])
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-posts", action="store_true")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() after set-up")
    parser.add_argument(
        "--login-cookie",
        action="store_true",
        help="the complete login POST carries a session with a CSRF token (a form's)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        made = setup(folder, args.posts * args.rounds if not args.profile else 2 * args.posts)
        for _, app, template in made["pages"]:
            page_time(app, template, 20, "200")  # warm: templates, pools, first requests
        cpu(made["plain"], login_environs(20))
        if args.freeze:
            gc.collect()
            gc.freeze()
        if args.profile:
            profile(args.profile, made, args.posts)
            return
        print(f"load {os.getloadavg()[0]:.1f} (1 min)")
        if not args.skip_pages:
            measure_pages(made["pages"], args.rounds, args.calls)
        if not args.skip_posts:
            measure_posts(
                made["plain"], made["gated"], made["users"], args.rounds, args.login_cookie
            )


if __name__ == "__main__":
    main()
