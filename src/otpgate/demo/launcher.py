"""``otpgate demo``: the demo sites and the dev SMS inbox, side by side on loopback.

Each site runs in a child process of its own (and its own process group, so a Ctrl-C in the
terminal reaches only this launcher, which then stops each group and waits for it). The
inbox runs in this process. Every site sends its SMS to the inbox's SQLite file; this
launcher echoes each new one in the terminal. Files of the run live in a temporary folder,
removed on the way out.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from otpgate.check.probes import safe_url
from otpgate.core.address import mask_email
from otpgate.core.phone import mask
from otpgate.demo.common import SENDER_ENV, STORE_ENV
from otpgate.demo.stories import SITES, Site, banner, missing_message
from otpgate.inbox import InboxSender, InboxServer

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class DemoError(Exception):
    """A reason the demo cannot run, worded for the terminal."""


@dataclass
class Child:
    site: Site
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def pick_port(preferred: int) -> tuple[int, bool]:
    """``preferred`` if it is free on loopback (0: any), else a free one; and whether it
    was a fallback."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return int(probe.getsockname()[1]), port != preferred
    raise DemoError("no free port on 127.0.0.1")


def check_redis(url: str) -> None:
    """Raise DemoError unless otpgate.redis is installed and ``url`` answers PING."""
    try:
        from otpgate.redis import RedisStore
    except ImportError as error:
        raise DemoError(f"--redis needs redis-py: {error}") from None
    safe = safe_url(url)
    try:
        store = RedisStore.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    except ValueError as error:
        raise DemoError(f"--redis {safe!r} is not a Redis URL ({error})") from None
    try:
        store.client.ping()
    except Exception as error:
        raise DemoError(
            f"Redis at {safe!r} does not answer ({type(error).__name__}); start it, or leave "
            "out --redis to keep challenges in memory"
        ) from None
    finally:
        store.close()


def child_env(data: Path, inbox: Path, redis_url: str | None) -> dict[str, str]:
    """The sites' environment: embedded defaults (the caller's OTPGATE_* settings are for
    the caller's apps, not the demo), the inbox as sender, the store asked for."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTPGATE_", "DEMO_")) and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {
            SENDER_ENV: "inbox",
            "OTPGATE_INBOX_DB": str(inbox),
            STORE_ENV: redis_url or "memory",
            "DEMO_DATABASE": str(data / "django.sqlite3"),
            "DEMO_INSTANCE_PATH": str(data / "flask"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start(site: Site, port: int, data: Path, env: dict[str, str], verbose: bool) -> Child:
    log = data / f"{site.key}.log"
    out: IO[bytes] | None = None if verbose else log.open("wb")
    command = [sys.executable, "-m", "otpgate.demo.serve", site.key, "--port", str(port)]
    command += ["--exit-with-parent", str(os.getpid())]
    options: dict[str, Any] = {"start_new_session": True}
    if os.name == "nt":  # pragma: no cover - no process groups to signal there
        options = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    try:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=data,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            **options,
        )
    finally:
        if out is not None:
            out.close()  # the child has its own copy
    return Child(site, port, process, log)


def answers(child: Child) -> bool:
    connection = http.client.HTTPConnection(HOST, child.port, timeout=2)
    try:
        connection.request("GET", child.site.start)
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_ready(children: Sequence[Child], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(children)
    while waiting:
        for child in list(waiting):
            if child.process.poll() is not None:
                raise DemoError(
                    f"the {child.site.framework} site stopped at start-up "
                    f"(exit {child.process.returncode}):\n{child.log_tail()}"
                )
            if answers(child):
                waiting.remove(child)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(c.site.framework for c in waiting)
            raise DemoError(f"{names} did not answer within {timeout:.0f} s")
        if waiting:
            time.sleep(0.2)


def stop(children: Sequence[Child]) -> None:
    """SIGTERM each child's process group, wait for it, SIGKILL what is left."""
    for child in children:
        _signal(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(child, signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
            child.process.wait()
        if os.name != "nt":  # stragglers of the group (a server's workers)
            _signal(child, signal.SIGKILL)


def _signal(child: Child, number: int) -> None:
    try:
        if os.name == "nt":  # pragma: no cover
            child.process.terminate()
        else:
            os.killpg(child.process.pid, number)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def serving_inbox(inbox: InboxSender, port: int) -> Iterator[InboxServer]:
    server = InboxServer(inbox, HOST, port)
    thread = threading.Thread(target=server.serve_forever, name="otpgate-inbox", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_KIND_LABELS = {"sms": "SMS", "call": "Call", "email": "Email"}


def echo_new_messages(inbox: InboxSender, after: int) -> int:
    """Print the texts, calls and emails stored since id ``after`` (number or address
    masked); the newest id."""
    for message in reversed(inbox.messages(after=after)):
        text = " / ".join(line for line in message.text.splitlines() if line.strip())
        to = mask_email(message.to) if message.kind == "email" else mask(message.to)
        print(f"  ✉ {_KIND_LABELS[message.kind]} to {to}: {text}", flush=True)
        after = max(after, message.id)
    return after


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(
    frameworks: Sequence[str],
    *,
    port: int = 8000,
    inbox_port: int = 8025,
    redis_url: str | None = None,
    verbose: bool = False,
    keep: bool = False,
) -> int:
    """Serve the demo until Ctrl-C (or SIGTERM); 0 when stopped by the user."""
    sites = [SITES[name] for name in frameworks]
    problem = missing_message(sites)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    children: list[Child] = []
    data = Path(tempfile.mkdtemp(prefix="otpgate-demo-run-"))
    stopping = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.signal(number, _raise_interrupt) for number in stopping}
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started as a background job (``otpgate demo &`` from a script): SIGINT comes in
        # ignored, and Ctrl-C would not stop the demo. The banner promises it does.
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            if redis_url:
                check_redis(redis_url)
            (data / "flask").mkdir()
            inbox = InboxSender(data / "inbox.sqlite3")
            notes = []
            inbox_port, moved = pick_port(inbox_port)
            if moved:
                notes.append("The usual inbox port was busy: the inbox took a free one.")
            server = stack.enter_context(serving_inbox(inbox, inbox_port))
            env = child_env(data, inbox.path, redis_url)
            for offset, site in enumerate(sites):
                site_port, moved = pick_port(port + offset if port else 0)
                if moved and port:
                    notes.append(
                        f"Port {port + offset} was busy: {site.framework} took a free one."
                    )
                children.append(start(site, site_port, data, env, verbose))
            print(f"otpgate demo: starting {', '.join(s.framework for s in sites)}...", flush=True)
            wait_until_ready(children)
            store = f"Redis ({safe_url(redis_url)})" if redis_url else "memory"
            urls = {child.site.key: child.url for child in children}
            print(banner(urls, server.url, store, notes), flush=True)
            if keep:
                print(f"  Files of this run: {data}\n", flush=True)
            last = 0
            while True:
                for child in children:
                    if child.process.poll() is not None:
                        raise DemoError(
                            f"the {child.site.framework} site stopped (exit "
                            f"{child.process.returncode}):\n{child.log_tail()}"
                        )
                last = echo_new_messages(inbox, last)
                time.sleep(0.3)
    except KeyboardInterrupt:
        print("\notpgate demo: stopping...", flush=True)
        return 0
    except DemoError as error:
        print(f"otpgate demo: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stop(children)
        for number, handler in previous.items():
            signal.signal(number, handler)
        if not keep:
            shutil.rmtree(data, ignore_errors=True)
        print("otpgate demo: stopped.", flush=True)
