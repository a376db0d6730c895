"""What otpgate costs a Django site per request (issue 17), as ratios to the same site
without otpgate, measured in the same run (``bench/loadgen.py``: wrk, one connection,
interleaved rounds, the median and the spread):

- a page for a user whose session passed the second factor, and for a signed-in user with no
  factor (``OTPGATE_REQUIRED = "optional"``): target >= 0.95x the site without otpgate;
- the verify POST of a right SMS code (a new pending session each request, logged in by it):
  target >= 0.7x a plain ``LoginView`` POST with a cheap (MD5) password check.

Both sites (``bench/django_site.py``) run on Django's own HTTP/1.1 server in one thread, on a
SQLite file with database sessions, otpgate on its in-memory store. Run from the repo root with
a Python that has Django (e.g. ``/work/main/.tox/django52/bin/python bench/http_django.py``).
Last, in process (steadier on a busy machine): the middleware's own time per request, and
the CPU time of the two POSTs through the site's WSGI handler.

    python bench/http_django.py                  # 5 rounds of 2 s
    python bench/http_django.py --rounds 7 --seconds 3
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import secrets
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
from loadgen import Server, Target, compare  # noqa: E402

CSRF = secrets.token_hex(16)  # a 32-character secret: accepted as cookie and field alike
PENDING_FIRST = 1000  # right codes prepared for the first wrk run of the verify POST


@dataclass(frozen=True)
class VerifyTarget(Target):
    """The verify POST: each request takes the next prepared (session, code) pair."""

    prepare_url: str = ""


_measured = loadgen.requests_per_second
_last_rate: dict[str, float] = {}


def _requests_per_second(target: Target, seconds: float, *args: int) -> tuple[float, int]:
    rate, bad = _measured(target, seconds, *args)
    _last_rate[target.name] = rate
    _last_rate["seconds"] = seconds
    return rate, bad


def _verify_script(target: VerifyTarget) -> str:
    """Enough right codes for the next run: thrice what the last run used (more at first)."""
    last = _last_rate.get(target.name)
    count = PENDING_FIRST if last is None else int(last * _last_rate["seconds"] * 3) + 100
    url = f"{target.prepare_url}?n={count}"
    with urllib.request.urlopen(url, timeout=600) as answer:
        pending = json.load(answer)["pending"]
    rows = ",\n".join(f'{{"{key}", "{code}"}}' for key, code in pending)
    path = f"/tmp/otpgate-wrk-{os.getpid()}-verify.lua"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            f"local pending = {{\n{rows}\n}}\nlocal i = 0\n"
            # Past the prepared codes: a malformed code on the last session, a visible 400.
            "request = function()\n  i = i + 1\n  local p = pending[i]\n"
            '  if i >= #pending then p = {pending[#pending][1], "x"} end\n'
            '  return wrk.format("POST", nil, {["Content-Type"] = '
            '"application/x-www-form-urlencoded", '
            f'["Cookie"] = "csrftoken={CSRF}; sessionid=" .. p[1]}}, '
            f'"csrfmiddlewaretoken={CSRF}&action=verify&method=sms&code=" .. p[2])\nend\n'
        )
    return path


_plain_script = loadgen._script


def _script(target: Target) -> str | None:
    if isinstance(target, VerifyTarget):
        return _verify_script(target)
    return _plain_script(target)


loadgen._script = _script  # the verify POST needs a fresh right code per request
loadgen.requests_per_second = _requests_per_second


def _prepare(database: str) -> dict[str, str]:
    """Migrate the database; two users with their sessions: ``verified`` (a phone, this
    session passed the second factor) and ``nofactor``. Returns their session keys."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site"
    os.environ["BENCH_DB"] = database
    os.environ["BENCH_OTPGATE"] = "1"  # in this process (``_post_cost``); each server says its own
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from otpgate.core.web import SESSION_KEY, SecondFactorState
    from otpgate.integrations.django.models import VerifiedPhone

    call_command("migrate", verbosity=0)
    model = get_user_model()
    keys = {}
    for name in ("verified", "nofactor"):
        user = model.objects.create_user(name, password="pw")
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        if name == "verified":
            VerifiedPhone.objects.create(user=user, e164="+447911000000")
            state = SecondFactorState(
                verified_subject=str(user.pk), verified_at=2e9, verified_factor="sms"
            )
            session[SESSION_KEY] = state.dump()
        session.create()
        keys[name] = session.session_key or ""
    model.objects.create_user("login", password="pw")
    return keys


def _answer(url: str, headers: dict[str, str], body: str = "") -> tuple[int, str]:
    """One request, redirects not followed: the status and the ``Location``."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    data = body.encode() if body else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=30) as answer:
            return answer.status, answer.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _sanity(pages: list[Target], login: Target, verify: VerifyTarget) -> None:
    """Each target does what it is named for (a page served, a login, a right code)."""
    for target in pages:
        assert _answer(target.url, target.headers) == (200, ""), target.name
    assert _answer(login.url, login.headers, login.body) == (302, "/page/"), login.name
    with urllib.request.urlopen(f"{verify.prepare_url}?n=1", timeout=30) as answer:
        ((key, code),) = json.load(answer)["pending"]
    headers = {**login.headers, "Cookie": f"csrftoken={CSRF}; sessionid={key}"}
    body = f"csrfmiddlewaretoken={CSRF}&action=verify&method=sms&code={code}"
    assert _answer(verify.url, headers, body) == (302, "/page/"), verify.name


def _middleware_cost(keys: dict[str, str]) -> None:
    """The middleware's own time per request, in process (steadier than wrk on a busy
    machine): the session and the user already loaded, a view that does nothing."""
    import timeit

    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse
    from django.test import RequestFactory

    from otpgate.integrations.django.middleware import OtpgateMiddleware

    middleware = OtpgateMiddleware(lambda request: HttpResponse("x"))
    for name in ("verified", "nofactor"):
        request = RequestFactory(HTTP_HOST="127.0.0.1").get("/page/")
        request.session = SessionStore(keys[name])
        request.session._session_cache = request.session.load()
        user = get_user_model().objects.get(username=name)

        def call(request: object = request, user: object = user) -> None:
            request.user = user  # type: ignore[attr-defined]  # as AuthenticationMiddleware
            middleware(request)  # (the middleware wraps request.user once per request)

        best = min(timeit.repeat(call, number=5000, repeat=5)) / 5000
        print(f"middleware alone, {name:<8} {best * 1e6:6.1f} us per request (in process)")


def _environ(path: str, body: str, cookie: str) -> dict[str, object]:
    data = body.encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_COOKIE": cookie,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def _post_cost(rounds: int = 9, batch: int = 40) -> None:
    """The two POSTs in process, through the same WSGI handler as the servers (the login one
    without otpgate's middleware), without HTTP: CPU time per request in interleaved batches,
    the medians and their ratio (steadier than wrk on a busy machine)."""
    import statistics
    import time

    import django_site
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if "otpgate" not in m]):
        plain = WSGIHandler()
    guarded = WSGIHandler()

    def logins(count: int) -> list[dict[str, object]]:
        body = f"csrfmiddlewaretoken={CSRF}&username=login&password=pw"
        return [_environ("/login/", body, f"csrftoken={CSRF}") for _ in range(count)]

    def verifies(count: int) -> list[dict[str, object]]:
        return [
            _environ(
                "/2fa/verify/",
                f"csrfmiddlewaretoken={CSRF}&action=verify&method=sms&code={code}",
                f"csrftoken={CSRF}; sessionid={key}",
            )
            for key, code in django_site.pending_sessions(count)
        ]

    def run(handler: WSGIHandler, requests: list[dict[str, object]]) -> float:
        statuses: list[str] = []
        started = time.process_time()
        for environ in requests:
            response = handler(environ, lambda status, headers: statuses.append(status))
            response.close()
        spent = time.process_time() - started
        assert set(statuses) == {"302 Found"}, statuses[:3]  # signed in, each one
        return spent / len(requests) * 1e6

    found: dict[str, list[float]] = {"login": [], "verify": []}
    run(plain, logins(5))  # warm up
    run(guarded, verifies(5))
    for _ in range(rounds):
        found["login"].append(run(plain, logins(batch)))
        found["verify"].append(run(guarded, verifies(batch)))
    login, verify = (statistics.median(found[name]) for name in ("login", "verify"))
    print(
        f"verify POST in process {verify:6.0f} us CPU, login POST {login:6.0f} us: "
        f"{login / verify:.2f}x (median of {rounds} interleaved batches of {batch})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="otpgate-bench-django-")
    database = os.path.join(folder, "site.sqlite3")
    keys = _prepare(database)
    site = [sys.executable, str(HERE / "django_site.py"), "{port}"]
    env = {"BENCH_DB": database, "PYTHONPATH": str(HERE)}
    print(
        f"Django {__import__('django').get_version()}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    with (
        Server(site, env={**env, "BENCH_OTPGATE": "0"}, ready_path="/page/") as plain,
        Server(site, env={**env, "BENCH_OTPGATE": "1"}, ready_path="/page/") as guarded,
    ):

        def cookie(name: str) -> dict[str, str]:
            return {"Cookie": f"sessionid={keys[name]}"}

        page_targets = [
            Target("page, no otpgate", plain.url("/page/"), cookie("verified")),
            Target("page, second factor passed", guarded.url("/page/"), cookie("verified")),
            Target("page, no factor (optional)", guarded.url("/page/"), cookie("nofactor")),
        ]
        login = Target(
            "login POST (MD5 password), no otpgate",
            plain.url("/login/"),
            {
                "Cookie": f"csrftoken={CSRF}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
            body=f"csrfmiddlewaretoken={CSRF}&username=login&password=pw",
        )
        verify = VerifyTarget(
            "verify POST, right SMS code",
            guarded.url("/2fa/verify/"),
            prepare_url=guarded.url("/prep/"),
        )
        _sanity(page_targets, login, verify)
        pages = compare(page_targets, rounds=args.rounds, seconds=args.seconds)
        for name in pages.names[1:]:
            print(pages.line(name, 0.95))
        posts = compare([login, verify], rounds=args.rounds, seconds=args.seconds)
        print(posts.line(verify.name, 0.7))
    _middleware_cost(keys)
    _post_cost()
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
