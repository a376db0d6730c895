"""Framing protection (clickjacking): the headers every page otpgate renders carries.

One function decides them for every integration, from one setting, ``frame_ancestors``:

- empty (the default): ``X-Frame-Options: DENY`` and ``Content-Security-Policy:
  frame-ancestors 'none'``: no page, not even the site's own, may show otpgate's in a frame;
- ``("'self'",)``: ``SAMEORIGIN`` and ``frame-ancestors 'self'``;
- origins such as ``https://portal.example``: ``frame-ancestors`` lists them (every current
  browser follows it and ignores ``X-Frame-Options``, which stays ``SAMEORIGIN`` for the
  old ones).

A Content-Security-Policy the response already has is kept, with the ``frame-ancestors``
directive added when it has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .settings import Settings

X_FRAME_OPTIONS = "X-Frame-Options"
CSP = "Content-Security-Policy"


class Headers(Protocol):
    """What :func:`add_framing_headers` needs of a response's headers (Django's, Werkzeug's
    and Starlette's all fit)."""

    def get(self, name: str, /) -> str | None: ...

    def __setitem__(self, name: str, value: str, /) -> None: ...


def frame_ancestors(ancestors: Sequence[str] = ()) -> str:
    """The CSP directive: ``frame-ancestors 'none'``, or the sources allowed to frame."""
    return "frame-ancestors " + (" ".join(ancestors) if ancestors else "'none'")


def framing_headers(
    settings: Settings | None = None, *, policy: str | None = None
) -> dict[str, str]:
    """``X-Frame-Options`` and ``Content-Security-Policy`` for a page, per
    ``settings.frame_ancestors`` (None: the default, deny). ``policy`` is a CSP the response
    has already: it is kept, with ``frame-ancestors`` added unless it names one itself."""
    ancestors = tuple(settings.frame_ancestors) if settings is not None else ()
    directive = frame_ancestors(ancestors)
    csp = directive
    if policy and policy.strip():
        names = {part.split()[0].lower() for part in policy.split(";") if part.split()}
        kept = policy.strip().rstrip(";").strip()
        csp = kept if "frame-ancestors" in names else f"{kept}; {directive}"
    return {X_FRAME_OPTIONS: "SAMEORIGIN" if ancestors else "DENY", CSP: csp}


def add_framing_headers(headers: Headers, settings: Settings | None = None) -> None:
    """Set the framing headers on a response's ``headers`` (an ``X-Frame-Options`` already
    there is left alone; a CSP already there gets ``frame-ancestors`` added)."""
    for name, value in framing_headers(settings, policy=headers.get(CSP)).items():
        if name == X_FRAME_OPTIONS and headers.get(name):
            continue
        headers[name] = value
