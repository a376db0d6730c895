"""Run one demo site: ``python -m otpgate.demo.serve django|flask|fastapi [--port N]``.

``otpgate demo`` starts one of these per site, each in its own process (group); the sender
and store come from ``DEMO_OTPGATE_SENDER`` and ``DEMO_OTPGATE_STORE``.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from collections.abc import Sequence


def exit_with_parent(parent: int) -> None:
    """Stop this process (SIGTERM to itself) once ``parent`` is gone, so a launcher that was
    killed outright leaves no site behind."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="otpgate-demo-parent", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m otpgate.demo.serve", description="Serve one otpgate demo site."
    )
    parser.add_argument("site", choices=["django", "flask", "fastapi"])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="FastAPI site behind a proxy: the proxies whose X-Forwarded-For is trusted "
        "(default: none)",
    )
    parser.add_argument(
        "--exit-with-parent", type=int, metavar="PID", help="stop when process PID is gone"
    )
    args = parser.parse_args(argv)
    # passkeys need a host name: the site is theirs at http://localhost:PORT
    os.environ.setdefault("DEMO_ORIGIN", f"http://localhost:{args.port}")
    if args.exit_with_parent and os.name != "nt":
        exit_with_parent(args.exit_with_parent)
    if args.site == "django":
        from otpgate.demo.django_site import serve as serve_django

        serve_django(args.host, args.port)
    elif args.site == "flask":
        from otpgate.demo.flask_bank import serve as serve_flask

        serve_flask(args.host, args.port)
    else:
        from otpgate.demo.payments import serve as serve_fastapi

        serve_fastapi(args.host, args.port, args.forwarded_allow_ips)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
