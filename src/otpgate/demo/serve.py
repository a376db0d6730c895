"""Run one demo site: ``python -m otpgate.demo.serve django|flask|fastapi [--port N]``.

``otpgate demo`` starts one of these per site, each in its own process (group); the sender
and store come from ``DEMO_OTPGATE_SENDER`` and ``DEMO_OTPGATE_STORE``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m otpgate.demo.serve", description="Serve one otpgate demo site."
    )
    parser.add_argument("site", choices=["django", "flask", "fastapi"])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    args = parser.parse_args(argv)
    if args.site == "django":
        from otpgate.demo.django_site import serve as serve_django

        serve_django(args.host, args.port)
    elif args.site == "flask":
        from otpgate.demo.flask_bank import serve as serve_flask

        serve_flask(args.host, args.port)
    else:
        from otpgate.demo.payments import serve as serve_fastapi

        serve_fastapi(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
