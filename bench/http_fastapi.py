"""What otpgate costs a FastAPI app per request (a script, not a test).

    python bench/http_fastapi.py [--rounds 5] [--seconds 2] [--store redis|memory]

Run from the repo root with a Python that has FastAPI and uvicorn (e.g.
``/work/main/.tox/fastapilatest/bin/python`` with ``PYTHONPATH=src``). It serves the same
small bearer-token API three times on loopback, each in a uvicorn process of its own (one
worker, h11, no access log): ``plain`` without otpgate, ``first`` with ``gate.install(app)``
before the app's routes (the quick start's order) and ``last`` with it after them. The
store is a redis-server this script starts on a free loopback port (``--store memory``: the
in-memory store). A token (``Bearer bench``) passed a second factor when the server
started; its ``OTP-Step-Up`` token is read from ``/bench/step-up``. wrk drives them
(``bench/loadgen.py``: interleaved rounds, median ratio to the plain app, spread):

- an app route without any otpgate dependency, install first and last: target >= 0.97x;
- a step-up route, ``@gate.otp_required()`` under the route decorator (the endpoint declares
  the app's subject dependency, as the plain route does), sending the step-up token back (no
  store round trip): target >= 0.95x the plain route (which authenticates the bearer alike);
- the same route without the step-up token (one store round trip: the fallback), for
  orientation;
- for orientation too, the dependency form of the same check
  (``Depends(gate.require_second_factor())``) with the token, and FastAPI's own floor: a
  plain-app route behind a dependency that wraps the app's subject dependency and does
  nothing, sent the same step-up header (the same request bytes); any dependency needing the
  subject, as ``require_second_factor`` does, pays it, the decorator does not;
- ``POST /otp/verify`` of a right authenticator-app code (a new subject each request, so
  timed one request at a time from this process over keep-alive, alternating) against two
  login POSTs of the plain app, both printed: the filed baseline (``/login``: a cheap
  password compared with a constant, a random token returned, nothing read or stored: no
  later request could use it) and the complete login the verdict is on
  (``/login/complete``, the kind of login Django's bench baseline does: the user's record
  read from the same Redis, a salted SHA-256 compared in constant time, the bearer token
  kept there with a TTL: two round trips): target >= 0.70x the complete login.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import Server, Target, compare, free_port  # noqa: E402

# bench/redis.py would shadow redis-py: the rest imports from the real path only.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

KEY = "bench-key-0123456789abcdef0123456789"
BEARER = "Bearer bench"


def make_app(variant: str, redis_url: str | None) -> Any:
    from fastapi import Depends, FastAPI, Header, HTTPException

    async def subject(authorization: str | None = Header(None)) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or not token:
            raise HTTPException(401)
        return token

    if variant == "plain":
        records = LoginRecords(redis_url)
        app = FastAPI(lifespan=records.lifespan)

        @app.get("/page")
        async def page(user: str = Depends(subject)) -> dict[str, str]:
            return {"user": user}

        @app.get("/step")
        async def step(user: str = Depends(subject)) -> dict[str, str]:
            return {"user": user}

        async def wrapping(user: str = Depends(subject)) -> str:
            """A dependency around the app's that does nothing: FastAPI's own price of any
            dependency that needs the subject (as ``require_second_factor`` does)."""
            return user

        @app.get("/step/floor")
        async def step_floor(user: str = Depends(wrapping)) -> dict[str, str]:
            return {"user": user}

        @app.post("/login")
        async def login(body: dict[str, str]) -> dict[str, str]:
            """A plain login POST: a cheap password check, a new bearer token."""
            if not hmac.compare_digest(body.get("password", ""), "cheap"):
                raise HTTPException(401)
            return {"token": secrets.token_urlsafe(16), "user": body.get("username", "")}

        @app.post("/login/complete")
        async def complete_login(body: dict[str, str]) -> dict[str, str]:
            """A complete login of the kind Django's bench baseline does: the user's record
            read from the store (a salted SHA-256, compared in constant time), then the
            bearer token it issues kept there with a TTL, so a later request could
            authenticate it. Two store round trips, no heavier hashing."""
            username, password = body.get("username", ""), body.get("password", "")
            record = await records.user(username)
            if record is None:
                raise HTTPException(401)
            salt, digest = record.split("$", 1)
            tried = hashlib.sha256((salt + password).encode()).hexdigest()
            if not hmac.compare_digest(tried, digest):
                raise HTTPException(401)
            token = secrets.token_urlsafe(16)
            await records.keep_token(token, username, 3600)
            return {"token": token, "user": username}

        return app

    import logging

    from otpgate import Settings, Verification
    from otpgate.integrations.fastapi import OtpGate

    logging.getLogger("otpgate").setLevel(logging.ERROR)  # the memory store's warning
    settings = Settings(secret_keys=(KEY,), step_up_max_age=3600)
    gate = OtpGate(
        settings, redis_url=redis_url, database_url=None, current_subject=subject, prefix="/otp"
    )
    tokens: dict[str, str] = {}
    base = gate.lifespan

    def lifespan(app: Any) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def running() -> Any:
            async with base(app):
                passed = Verification("bench", "action", "totp", time.time())
                tokens["step-up"] = await gate.passed(BEARER, passed)
                yield

        return running()

    app = FastAPI(lifespan=lifespan)
    if variant == "first":
        gate.install(app)
    fresh = gate.require_second_factor()

    @app.get("/page")
    async def page(user: str = Depends(subject)) -> dict[str, str]:
        return {"user": user}

    @app.get("/step")
    @gate.otp_required()
    async def step(user: str = Depends(subject)) -> dict[str, str]:
        return {"user": user}

    @app.get("/step/dependency")
    async def step_dependency(verified: Verification = Depends(fresh)) -> dict[str, str]:  # noqa: B008
        return {"user": verified.subject}

    @app.get("/bench/step-up")
    async def step_up_token() -> dict[str, str]:
        return {"token": tokens["step-up"]}

    @app.post("/bench/enroll")
    async def enroll(n: int) -> list[list[Any]]:
        """``n`` new subjects with a confirmed authenticator app: [subject, key hex, step]."""
        from otpgate.core.totp import hotp, secret_key_bytes, totp_step

        found = []
        for _ in range(n):
            subject = f"app-{secrets.token_hex(6)}"
            key = secret_key_bytes((await gate.verifier.totp.enroll(subject)).secret)
            step = totp_step(time.time())
            await gate.verifier.totp.confirm(subject, hotp(key, step))
            found.append([subject, key.hex(), step])
        return found

    if variant == "last":
        gate.install(app)
    return app


class LoginRecords:
    """The complete login's users and bearer tokens, in the Redis the otpgate apps use
    (``--store memory``: a dict in the process). ``lifespan`` connects and adds ``alice``
    (password ``cheap``) as a salted SHA-256."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url
        self.client: Any = None
        self.memory: dict[str, str] = {}

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        if self.redis_url:
            import redis.asyncio

            self.client = redis.asyncio.Redis.from_url(self.redis_url)
        salt = secrets.token_hex(8)
        record = f"{salt}${hashlib.sha256((salt + 'cheap').encode()).hexdigest()}"
        await self._set("bench:user:alice", record, None)
        try:
            yield
        finally:
            if self.client is not None:
                await self.client.aclose()

    async def user(self, username: str) -> str | None:
        """``salt$sha256(salt + password)`` of ``username``, or None."""
        if self.client is None:
            return self.memory.get("bench:user:" + username)
        value = await self.client.get("bench:user:" + username)
        return value.decode() if value is not None else None

    async def keep_token(self, token: str, username: str, ttl: int) -> None:
        """Keep the bearer token issued to ``username`` for ``ttl`` seconds."""
        await self._set("bench:token:" + token, username, ttl)

    async def _set(self, key: str, value: str, ttl: int | None) -> None:
        if self.client is None:
            self.memory[key] = value
        else:
            await self.client.set(key, value, ex=ttl)


@contextmanager
def redis_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def serve(variant: str, port: int, redis_url: str | None) -> None:
    import uvicorn

    app = make_app(variant, redis_url)
    uvicorn.run(app, host="127.0.0.1", port=port, http="h11", access_log=False, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--store", choices=["redis", "memory"], default="redis")
    parser.add_argument("--serve", choices=["plain", "first", "last"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--redis-url")
    parser.add_argument("--posts", type=int, default=200, help="verify POSTs per round")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.redis_url)
        return
    if args.store == "redis" and shutil.which("redis-server") is None:
        sys.exit("redis-server is needed (or --store memory)")
    with redis_server() if args.store == "redis" else _nothing() as redis_url:
        command = [sys.executable, __file__, "--port", "{port}"]
        if redis_url:
            command += ["--redis-url", redis_url]
        with (
            Server([*command, "--serve", "plain"]) as plain,
            Server([*command, "--serve", "first"]) as first,
            Server([*command, "--serve", "last"]) as last,
        ):
            token = json.load(urllib.request.urlopen(first.url("/bench/step-up")))["token"]
            auth = {"Authorization": BEARER}
            stepped = {**auth, "OTP-Step-Up": token}
            targets = [
                Target("plain app, route", plain.url("/page"), auth),
                Target("otpgate installed first, app route", first.url("/page"), auth),
                Target("otpgate installed last, app route", last.url("/page"), auth),
                Target("step-up route, OTP-Step-Up token", first.url("/step"), stepped),
                Target("step-up route, no token (store)", first.url("/step"), auth),
                Target(
                    "plain app, do-nothing wrapping dependency", plain.url("/step/floor"), stepped
                ),
                Target(
                    "  dependency form, OTP-Step-Up token", first.url("/step/dependency"), stepped
                ),
            ]
            result = compare(targets, rounds=args.rounds, seconds=args.seconds)
            posts, complete = post_rates(plain, first, args.rounds, args.posts)
    print(
        f"FastAPI, uvicorn 1 worker (h11), {args.store} store, wrk -c1, "
        f"{args.rounds} rounds of {args.seconds:g} s, load {os.getloadavg()[0]:.1f} (1 min)"
    )
    print(result.line(targets[0].name))
    print(result.line(targets[1].name, 0.97))
    print(result.line(targets[2].name, 0.97))
    print(result.line(targets[3].name, 0.95))
    print(result.line(targets[4].name))
    print(result.line(targets[6].name))
    print(result.line(targets[5].name))
    over_floor = [
        step / floor
        for step, floor in zip(
            result.ratios[targets[3].name], result.ratios[targets[5].name], strict=True
        )
    ]
    print(
        f"{'  step-up token vs that floor, per round':<44} {statistics.median(over_floor):5.2f}x"
        f"  (spread {min(over_floor):.2f}-{max(over_floor):.2f}; above 1: no dependency's price)"
    )
    print(post_line("verify POST (right app code) vs login POST", posts, verdict=False))
    print(f"{'  the same, median request times':<44} {statistics.median(TYPICAL[0]):5.2f}x")
    print(post_line("verify POST vs complete login POST", complete, verdict=True))
    print(f"{'  the same, median request times':<44} {statistics.median(TYPICAL[1]):5.2f}x")


def post_line(name: str, posts: list[float], *, verdict: bool) -> str:
    """The verdict is on the complete login (the filed baseline is printed for comparison
    with earlier runs: it reads and stores nothing, so it is no login to match)."""
    judged = ("ok" if statistics.median(posts) >= 0.7 else "MISSED") if verdict else "(filed)"
    return (
        f"{name:<44} {statistics.median(posts):5.2f}x  "
        f"(spread {min(posts):.2f}-{max(posts):.2f}, http.client)  target >= 0.70: {judged}"
    )


#: Per round, the ratio of the median request times, to the filed and to the complete login
#: (for orientation on a busy machine: a stall elsewhere weighs on a round's mean, hardly on
#: its median).
TYPICAL: tuple[list[float], list[float]] = ([], [])


def post_rates(
    plain: Server, gated: Server, rounds: int, per_round: int
) -> tuple[list[float], list[float]]:
    """Per round: the verify POST's (a right app code, a new subject each time: a code is
    good once) requests per second over the filed login POST's and over the complete
    login POST's, one request at a time over a keep-alive connection from this process,
    alternating (wrk cannot send a new code each time); the client's own time is in every
    side alike."""
    from otpgate.core.totp import hotp, totp_step

    to_plain = http.client.HTTPConnection("127.0.0.1", plain.port)
    to_gated = http.client.HTTPConnection("127.0.0.1", gated.port)
    to_gated.request("POST", f"/bench/enroll?n={rounds * per_round}")
    users = json.loads(to_gated.getresponse().read())

    def timed(connection: http.client.HTTPConnection, path: str, body: Any, token: str) -> float:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        start = time.perf_counter()
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"POST {path}: {response.status}")
        return took

    ratios: tuple[list[float], list[float]] = ([], [])
    login = {"username": "alice", "password": "cheap"}
    for index in range(rounds):
        times: tuple[list[float], list[float], list[float]] = ([], [], [])
        for subject, key, used in users[index * per_round : (index + 1) * per_round]:
            code = hotp(bytes.fromhex(key), max(totp_step(time.time()), used + 1))
            body = {"factor": "totp", "code": code}
            times[0].append(timed(to_gated, "/otp/verify", body, subject))
            times[1].append(timed(to_plain, "/login", login, "anonymous"))
            times[2].append(timed(to_plain, "/login/complete", login, "anonymous"))
        verify = times[0]
        for baseline, login_times in enumerate(times[1:]):
            ratios[baseline].append(statistics.mean(login_times) / statistics.mean(verify))
            TYPICAL[baseline].append(statistics.median(login_times) / statistics.median(verify))
    return ratios


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
