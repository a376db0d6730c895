"""``otpgate check``: diagnose a configuration before it meets users.

Reads ``OTPGATE_*`` environment variables (or a Django settings module, any module with
``OTPGATE_*`` names, or a Flask app or app factory) and reports, each with what to do about
it:

- settings: every invalid value, named (``OTPGATE_CODE_DIGITS: must be between 6 and 10``),
  and a missing ``OTPGATE_SECRET_KEYS``;
- store: ``OTPGATE_STORE`` answers ``PING`` (round-trip times) and accepts otpgate's
  scripts; the in-memory store is a warning (one process only); an old name
  (``OTPGATE_REDIS_URL``) is a warning naming the new one;
- gateway: each sender behind ``OTPGATE_SENDER`` is reachable (TCP, then ``HEAD /`` on its base
  URL: no credentials are sent and no SMS);
- the policy in force, as a table, with what differs from the defaults.

Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TextIO

from .policy import table, validate
from .probes import Finding, memory_store_finding, probe_redis, probe_sender
from .sources import Config, from_app, load

__all__ = ["Finding", "diagnose", "report", "run_check"]

SYMBOLS = {"ok": "✓", "warn": "!", "fail": "✗"}
WIDTH = 100
INDENT = " " * 14


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=rest)


def diagnose(config: Config) -> tuple[list[Finding], str]:
    """The findings about ``config``, and the policy table ('' when settings are invalid)."""
    found = [Finding("fail", "source", problem) for problem in config.problems]
    if config.problems:
        return found, ""
    settings, about_settings = validate(config.core_values)
    found += about_settings
    try:
        parts, renamed = config.wiring()
    except Exception as error:
        found.append(Finding("fail", "store", str(error)))
        return found, table(settings) if settings is not None else ""
    for message in renamed:
        found.append(Finding("warn", "settings", message, "Old names stop working in 1.0."))
    if config.django and parts.database_url:
        found.append(
            Finding(
                "warn",
                "settings",
                "OTPGATE_DATABASE_URL is not used by Django: factors live in DATABASES",
                "Remove OTPGATE_DATABASE_URL.",
            )
        )
    if parts.uses_redis:
        found += probe_redis(parts.store, dict(parts.store_options), parts.store_key)
    elif config.store_in_code:
        what = f"the app was given a {config.store_in_code} in code: not probed"
        fix = "Set OTPGATE_STORE to its URL so that `otpgate check` can reach it."
        found.append(Finding("warn", "store", what, fix))
    else:
        found.append(memory_store_finding())
    found += probe_sender(parts.sender if parts.sender is not None else config.sender_in_code)
    return found, table(settings) if settings is not None else ""


def report(config: Config, found: Sequence[Finding], policy: str, out: TextIO) -> int:
    """Print the report; the exit status."""
    print(f"otpgate check: {config.origin}\n", file=out)
    for finding in found:
        head = f"  {SYMBOLS[finding.level]} {finding.topic:<9} "
        print(_wrap(finding.message, head, INDENT), file=out)
        if finding.fix and finding.level != "ok":
            print(_wrap(finding.fix, INDENT + "→ ", INDENT + "  "), file=out)
    if policy:
        print(f"\n{policy}", file=out)
    failures = sum(f.level == "fail" for f in found)
    warnings = sum(f.level == "warn" for f in found)
    if failures:
        what = "1 problem: fix it" if failures == 1 else f"{failures} problems: fix them"
        print(f"\n{what} and run `otpgate check` again.", file=out)
        return 1
    print(f"\nNo problem found ({warnings} warning{'s' if warnings != 1 else ''}).", file=out)
    return 0


def run_check(source: str, out: TextIO, app: str | None = None) -> int:
    """``otpgate check --settings SOURCE`` or ``otpgate check --app module:create_app``."""
    config = from_app(app) if app else load(source)
    found, policy = diagnose(config)
    return report(config, found, policy, out)
