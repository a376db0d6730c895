"""The demo's three user stories: which site tells each, what it needs, and how to try it."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass

from otpgate.core.phone import mask
from otpgate.demo.common import DJANGO_USERS, FASTAPI_USERS, FLASK_USERS, DemoUser


@dataclass(frozen=True)
class Site:
    """One demo site: ``key`` is the ``--framework`` name."""

    key: str
    framework: str
    story: str
    start: str  # the path where the story starts
    needs: tuple[tuple[str, str], ...]  # (module, distribution) pairs it imports
    users: tuple[DemoUser, ...]
    steps: tuple[str, ...]

    def missing(self) -> list[str]:
        """The distributions this site needs that are not installed."""
        return [dist for module, dist in self.needs if importlib.util.find_spec(module) is None]


SITES = {
    "django": Site(
        "django",
        "Django",
        "Sign in with a second factor",
        "/",
        (("django", "Django"),),
        DJANGO_USERS,
        (
            "Sign in as alice: after the password, type the code from the SMS inbox.",
            "Then try the step-up page and a transfer confirmed by a code bound to it.",
        ),
    ),
    "flask": Site(
        "flask",
        "Flask",
        "A transfer protected by step-up",
        "/transfer",
        (("flask", "Flask"), ("flask_login", "Flask-Login"), ("sqlalchemy", "SQLAlchemy")),
        FLASK_USERS,
        (
            "Sign in as alice and confirm the sign-in with the code from the inbox,",
            "then send money: the next code confirms exactly that amount and payee.",
        ),
    ),
    "fastapi": Site(
        "fastapi",
        "FastAPI",
        "A payment confirmed through the API",
        "/docs",
        (
            ("fastapi", "FastAPI"),
            ("uvicorn", "uvicorn"),
            ("sqlalchemy", "SQLAlchemy"),
            ("aiosqlite", "aiosqlite"),
        ),
        FASTAPI_USERS,
        (
            "Authorize with the bearer token alice-token. POST /payments creates a payment;",
            "POST /payments/{id}/execute answers 401 confirmation_required with an",
            "OTP-Challenge header and sends a code bound to the payment; repeat it with the",
            "OTP-Challenge and OTP-Code headers and the payment executes, once.",
        ),
    ),
}

#: What brings every site's dependencies.
INSTALL_ALL = 'pip install "otpgate[demo]"'


def missing_message(sites: Sequence[Site]) -> str | None:
    """None when every site can start, else what to install (and what runs already)."""
    lacking = {site.key: site.missing() for site in sites}
    if not any(lacking.values()):
        return None
    lines = ["otpgate demo cannot start:"]
    for key, dists in lacking.items():
        if dists:
            lines.append(f"  the {SITES[key].framework} site needs {', '.join(dists)}")
    lines.append(f'Install them with: {INSTALL_ALL}   (from a checkout: pip install -e ".[demo]")')
    ready = [key for key, dists in lacking.items() if not dists]
    if ready and len(sites) > 1:
        lines.append("Or run only what is installed: otpgate demo --framework " + ready[0])
    return "\n".join(lines)


def banner(urls: dict[str, str], inbox_url: str, store: str, notes: Sequence[str]) -> str:
    """What ``otpgate demo`` prints once everything answers."""
    lines = [
        "",
        "otpgate demo: the sites below and the dev SMS inbox run on this machine only.",
        "",
        f"  SMS inbox   {inbox_url}",
        "              every SMS the sites send lands here (and is echoed below), code ready",
    ]
    for number, (key, url) in enumerate(urls.items(), start=1):
        site = SITES[key]
        lines += ["", f"  {number}. {site.story} ({site.framework})", f"     {url}{site.start}"]
        secret = "token" if key == "fastapi" else "password"
        lines.append(f"     {'user':<6} {secret:<14} phone")
        for user in site.users:
            phone = mask(user.phone) if user.phone else "no phone"
            lines.append(f"     {user.name:<6} {user.password:<14} {phone:<22} {user.note}")
        lines += [f"     {step}" for step in site.steps]
    lines += ["", f"  Challenges live in {store}; users and factors in SQLite files of this run."]
    lines.append(
        "  Passkeys: open a site at localhost instead of 127.0.0.1 (same port); browsers"
        " refuse passkeys on an IP address."
    )
    lines += [f"  {note}" for note in notes]
    lines += ["  Ctrl-C stops everything.", ""]
    return "\n".join(lines)
