"""A form submission kept across a step-up, so the user does not type it again.

When a step-up stops a POST from a page (the session passed its second factor too long ago),
the Django and Flask integrations keep the submission here, send the user through the second
step, and then let the browser post it again, with the *current* session's CSRF token. What
is kept:

- the method (only ``POST``: the one unsafe method an HTML form sends) and the path with its
  query string; the replay goes only to that path;
- the form's text fields, in order, **without** any CSRF token (:data:`CSRF_FIELDS`): a token
  is never carried from one session to another;
- not uploaded files: only the names of their fields (``file_fields``), so the replay page
  can ask the user to attach them again (and then waits for the user's "Continue").

It is sealed with the keyring (AES-GCM) under the subject and an opaque token, in the store's
session state (``put_state``, memory or Redis), for the login step timeout
(``login_step_timeout``, 600 s by default): as long as a second step may take, and no
longer, since the user is in the middle of one. The verifier's clock decides (the lifetime
is sealed with the submission); the store's TTL only reclaims it. One slot per subject: a newer
submission replaces an older one. It opens only for the same subject with the same token and
path, once: :meth:`Submissions.take` burns it. A submission over :data:`MAX_BYTES` or with
more than :data:`MAX_FIELDS` fields is not kept (``Kept.TOO_LARGE``): the step-up goes on
as before, and the user lands on the page by GET.

The pure part (:func:`seal_submission`, :func:`open_submission`) does no I/O;
:class:`Submissions` and :class:`AsyncSubmissions` add the store's two calls.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .crypto import DecryptionError, Keyring

if TYPE_CHECKING:
    from .aio import AsyncVerifier
    from .verifier import Verifier

logger = logging.getLogger("otpgate")

#: The CSRF token fields never kept: Django's, and Flask-WTF's (also otpgate's Flask pages').
CSRF_FIELDS = frozenset({"csrfmiddlewaretoken", "csrf_token"})
#: The only method kept and replayed.
METHODS = frozenset({"POST"})
#: The bodies kept: an HTML form's (any other body is not replayed as a form).
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: The largest submission kept (its fields and path as JSON text).
MAX_BYTES = 64 * 1024
#: The most fields a kept submission may have.
MAX_FIELDS = 200


class Kept(Enum):
    """What :meth:`Submissions.keep` did: ``KEPT`` (with a token); ``TOO_LARGE`` and
    ``NOT_A_FORM`` (another method than POST, or a body that is not a form's) keep nothing,
    and the step-up goes on."""

    KEPT = "kept"
    TOO_LARGE = "too_large"
    NOT_A_FORM = "not_a_form"


@dataclass(frozen=True)
class Submission:
    """A kept form submission: ``fields`` are (name, value) pairs in order, no CSRF token;
    ``content_type`` is the request's (only :data:`FORM_TYPES` are kept; not sealed: the
    replay posts multipart when there were files, else urlencoded)."""

    method: str
    path: str
    fields: tuple[tuple[str, str], ...]
    file_fields: tuple[str, ...] = ()
    content_type: str = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Keeping:
    """The outcome of keeping a submission; ``token`` is set only when it was ``KEPT``."""

    outcome: Kept
    token: str = ""


def form_fields(pairs: Iterable[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    """The text fields of a form, CSRF tokens left out (non-text values are dropped)."""
    return tuple(
        (name, value)
        for name, value in pairs
        if name not in CSRF_FIELDS and isinstance(name, str) and isinstance(value, str)
    )


def state_key(keyring: Keyring, subject: str) -> str:
    """The store key of ``subject``'s kept submission (one slot per subject)."""
    return "r:" + keyring.digest("submission", subject)


def _context(key: str, token: str) -> str:
    return f"{key}\x1fsubmission\x1f{token}"


def seal_submission(
    keyring: Keyring, subject: str, submission: Submission, until: float
) -> tuple[Keeping, str, str]:
    """``(keeping, key, sealed)``: what to put in the store (nothing when not ``KEPT``);
    it opens until the time ``until``."""
    kind = submission.content_type.split(";", 1)[0].strip().lower()
    if submission.method.upper() not in METHODS or kind not in FORM_TYPES:
        return Keeping(Kept.NOT_A_FORM), "", ""
    fields = form_fields(submission.fields)
    text = json.dumps(
        {
            "m": submission.method.upper(),
            "p": submission.path,
            "f": [list(pair) for pair in fields],
            "x": list(submission.file_fields),
            "u": until,
        },
        separators=(",", ":"),
    )
    count = len(fields) + len(submission.file_fields)
    if count > MAX_FIELDS or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Keeping(Kept.TOO_LARGE), "", ""
    token = secrets.token_urlsafe(24)
    key = state_key(keyring, subject)
    return Keeping(Kept.KEPT, token), key, keyring.seal(text, context=_context(key, token))


def open_submission(
    keyring: Keyring, subject: str, token: str, path: str, sealed: str | None, now: float
) -> Submission | None:
    """The submission in ``sealed`` if it was kept for ``subject`` under ``token`` and for
    ``path``, and ``now`` is within its lifetime; else None (another subject or token,
    another path, expired, damaged, or gone)."""
    if not sealed or not token or not subject:
        return None
    try:
        text = keyring.open(sealed, context=_context(state_key(keyring, subject), token))
        data = json.loads(text)
        fields = tuple((str(name), str(value)) for name, value in data["f"])
        files = tuple(str(name) for name in data["x"])
        kept = Submission(str(data["m"]), str(data["p"]), fields, files)
        until = float(data["u"])
    except (DecryptionError, ValueError, KeyError, TypeError):
        return None
    return kept if kept.path == path and now < until else None


class _Base:
    def __init__(self, verifier: Verifier | AsyncVerifier, ttl: int | None = None) -> None:
        self.verifier = verifier
        self.ttl = ttl if ttl is not None else verifier.settings.login_step_timeout
        if self.ttl < 1:
            raise ValueError("a submission must be kept at least one second")

    def _seal(self, subject: str, submission: Submission) -> tuple[Keeping, str, str]:
        until = self.verifier.clock() + self.ttl
        sealed = seal_submission(self.verifier.keyring, subject, submission, until)
        if sealed[0].outcome is Kept.TOO_LARGE:
            logger.info("otpgate did not keep a form too large to post again after step-up")
        return sealed

    def _open(self, subject: str, token: str, path: str, sealed: str | None) -> Submission | None:
        keyring, now = self.verifier.keyring, self.verifier.clock()
        return open_submission(keyring, subject, token, path, sealed, now)


class Submissions(_Base):
    """Keep and take submissions in a :class:`~otpgate.Verifier`'s store."""

    verifier: Verifier

    def keep(self, subject: str, submission: Submission) -> Keeping:
        """Keep ``submission`` for ``subject`` (replacing an older one), or say why not."""
        keeping, key, sealed = self._seal(subject, submission)
        if keeping.outcome is Kept.KEPT:
            self.verifier.store.put_state(key, sealed, self.ttl)
        return keeping

    def take(self, subject: str, token: str, path: str) -> Submission | None:
        """The submission kept for ``subject`` under ``token`` for ``path``, once (None
        otherwise). A token that does not match leaves the kept submission in place."""
        key = state_key(self.verifier.keyring, subject)
        store = self.verifier.store
        kept = self._open(subject, token, path, store.get_state(key))
        if kept is not None:
            store.put_state(key, "", 1)  # used: burnt
        return kept


class AsyncSubmissions(_Base):
    """:class:`Submissions` for an :class:`~otpgate.AsyncVerifier` (every method awaits)."""

    verifier: AsyncVerifier

    async def keep(self, subject: str, submission: Submission) -> Keeping:
        """Keep ``submission`` for ``subject`` (replacing an older one), or say why not."""
        keeping, key, sealed = self._seal(subject, submission)
        if keeping.outcome is Kept.KEPT:
            await self.verifier.store.put_state(key, sealed, self.ttl)
        return keeping

    async def take(self, subject: str, token: str, path: str) -> Submission | None:
        """The submission kept for ``subject`` under ``token`` for ``path``, once."""
        key = state_key(self.verifier.keyring, subject)
        store = self.verifier.store
        sealed = await store.get_state(key)
        kept = self._open(subject, token, path, sealed)
        if kept is not None:
            await store.put_state(key, "", 1)
        return kept
