"""Framework-free pieces every web integration needs, so each integration stays thin.

- :func:`safe_next`: ``next`` redirects only to the same host;
- :class:`SecondFactorState`: what a session remembers (pending login, last second factor),
  as plain JSON-able dicts any session backend can hold, with expiry and step-up freshness;
- :func:`guard_error` and :func:`manage_error`: what a session lacks before a guarded view,
  or before it may see or change its factors (one decision for every integration, from the
  session's state and the operation, never from a request's fields);
  :func:`may_change_factors` is the same decision as a yes/no.

Remembered devices are :mod:`otpgate.core.device_service` (``gate.devices``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from .challenge import Challenge, Verification
from .devices import REMEMBERED
from .errors import (
    EnrollmentRequired,
    FreshOtpRequired,
    LoginRequired,
    OtpgateError,
    OtpRequired,
)

#: What a request does with a subject's factors: ``"view"`` them (masked numbers, counts),
#: or ``"change"`` them: add, replace, confirm, regenerate, resend a code for a number being
#: added, remove, or see a pending authenticator secret again.
FactorOperation = Literal["view", "change"]

#: The session key under which integrations keep :class:`SecondFactorState`.
SESSION_KEY = "otpgate"
_MAX_NEXT = 2048
#: Control characters and backslashes: never in a ``next`` URL.
_REFUSED = re.compile(r"[\x00-\x1f\\]")


def safe_next(url: object, host: str, *, fallback: str = "/") -> str:
    """``url`` if it stays on ``host`` (a path, or an absolute URL naming ``host``), else
    ``fallback``. Refuses scheme-relative ``//evil``, backslashes, and control characters."""
    if not isinstance(url, str) or not url or len(url) > _MAX_NEXT:
        return fallback
    if _REFUSED.search(url):
        return fallback
    if url[0] == "/":  # a path (no scheme can start with "/"), unless "//" names a host
        return fallback if url.startswith("//") else url
    try:
        parts = urlsplit(url)
    except ValueError:
        return fallback
    if not parts.scheme and not parts.netloc:
        return url if url.startswith("/") and not url.startswith("//") else fallback
    if parts.scheme in {"http", "https"} and parts.netloc.lower() == host.lower():
        return url
    return fallback


@dataclass
class SecondFactorState:
    """The second-factor part of a session, stored under :data:`SESSION_KEY`.

    ``pending_subject`` is set after the password step and cleared when the second factor
    passes (the integration then logs the user in and rotates the session id);
    ``verified_at`` is when this session last passed a second factor (for step-up).
    """

    pending_subject: str = ""
    pending_since: float = 0.0
    pending_next: str = ""
    challenge_id: str = ""
    verified_subject: str = ""
    verified_at: float = 0.0
    verified_factor: str = ""
    #: The user asked to be remembered at the password step (applied after the second).
    pending_remember: bool = False
    #: Integration-specific details of the pending login (e.g. Django's auth backend path).
    pending_backend: str = ""
    #: The factor the user chose for the second step ("sms", "totp", "recovery").
    pending_method: str = ""

    @classmethod
    def load(cls, session: Mapping[str, Any]) -> SecondFactorState:
        raw = session.get(SESSION_KEY)
        if not isinstance(raw, Mapping):
            return cls()
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def dump(self) -> dict[str, Any]:
        """The fields that differ from their defaults (:meth:`load` fills in the rest): a
        session that passed keeps three, so its cookie or row stays small and cheap to
        serialize on every response that saves it."""
        # Every field is a str, float or bool: read as is (``asdict`` would deep-copy them,
        # which costs a verify POST more than the rest of this state's sealing).
        return {
            name: value
            for name, default in _DEFAULTS.items()
            if (value := getattr(self, name)) != default
        }

    def begin(
        self, subject: str, now: float, next_url: str = "", *, remember: bool = False
    ) -> None:
        """The password step passed; the second step is due within ``login_step_timeout``."""
        self.pending_subject, self.pending_since, self.pending_next = subject, now, next_url
        self.pending_remember = remember
        self.challenge_id = ""

    def pending(self, now: float, ttl: float) -> str:
        """The subject waiting for its second step, or "" if none or it went stale."""
        if self.pending_subject and now - self.pending_since < ttl:
            return self.pending_subject
        return ""

    def passed(self, verification: Verification) -> None:
        """Record a passed second factor and end the pending step (``pending_next`` stays
        readable until the integration has redirected)."""
        self.verified_subject = verification.subject
        self.verified_at = verification.verified_at
        self.verified_factor = verification.factor
        self.pending_subject, self.pending_since, self.challenge_id = "", 0.0, ""
        self.pending_remember, self.pending_backend, self.pending_method = False, "", ""

    @staticmethod
    def passed_in(session: Mapping[str, Any], subject: str) -> bool:
        """:meth:`has_passed` read straight from a session's raw value, without building
        the state: a guard's per-request test (False for anything unreadable)."""
        raw = session.get(SESSION_KEY)
        # a dict first (what sessions hold): an ABC check costs this per-request test more
        if raw is None or (type(raw) is not dict and not isinstance(raw, Mapping)):
            return False
        if not subject or raw.get("verified_subject") != subject:
            return False
        at = raw.get("verified_at")
        return isinstance(at, (int, float)) and not isinstance(at, bool) and at > 0

    def has_passed(self, subject: str) -> bool:
        """True if ``subject`` passed a second factor in this session (at any time)."""
        return bool(subject) and self.verified_subject == subject and self.verified_at > 0

    def is_fresh(self, subject: str, now: float, max_age: float) -> bool:
        """True if ``subject`` passed a second factor in this session within ``max_age``.

        A sign-in a remembered device let through is never fresh: step-up always asks."""
        if self.verified_factor == REMEMBERED:
            return False
        return self.has_passed(subject) and 0 <= now - self.verified_at <= max_age

    def remembered(self, subject: str, now: float) -> None:
        """A remembered device let ``subject`` skip the sign-in second step: the session
        counts as signed in with a second factor, but never as fresh (no step-up, no
        change of factors, no transaction without asking)."""
        self.verified_subject, self.verified_at, self.verified_factor = subject, now, REMEMBERED
        self.pending_subject, self.pending_since, self.challenge_id = "", 0.0, ""
        self.pending_remember, self.pending_backend, self.pending_method = False, "", ""


#: What :meth:`SecondFactorState.dump` leaves out.
_DEFAULTS: dict[str, Any] = asdict(SecondFactorState())


def guard_error(
    state: SecondFactorState,
    subject: str,
    now: float,
    *,
    max_age: int | None,
    has_factor: Callable[[], bool],
) -> OtpgateError | None:
    """What keeps ``subject`` ("": nobody signed in) out of a view that needs a second
    factor passed in this session (within ``max_age`` seconds; None: at any time), or None.

    ``has_factor`` is only called for a session that has not passed (a lookup saved on
    every other request). LoginRequired, EnrollmentRequired, OtpRequired or FreshOtpRequired.
    """
    if not subject:
        return LoginRequired()
    if max_age is None and state.has_passed(subject):
        return None
    if max_age is not None and state.is_fresh(subject, now, max_age):
        return None
    if not has_factor():
        return EnrollmentRequired()
    return OtpRequired() if max_age is None else FreshOtpRequired(max_age=max_age)


def manage_error(
    state: SecondFactorState,
    subject: str,
    now: float,
    *,
    operation: FactorOperation,
    step_up_max_age: int,
    has_factor: bool,
) -> OtpgateError | None:
    """What keeps ``subject`` ("": nobody signed in) from ``operation`` on its factors, or
    None if nothing is missing.

    ``"view"`` needs a second factor passed in this session; ``"change"`` (every operation
    that adds, replaces, confirms, regenerates, resends a code for enrollment, removes a
    factor or shows a pending secret again) needs one passed within ``step_up_max_age``
    seconds. Finishing a set-up is a change like starting it. A subject without any factor
    (``has_factor`` False) may always set up its first one. The integrations name the
    operation of each route; no request field decides it.
    """
    if operation not in ("view", "change"):
        raise ValueError(f"unknown factor operation {operation!r}")
    if not subject:
        return LoginRequired()
    if not has_factor:
        return None
    if not state.has_passed(subject):
        return OtpRequired()
    if operation == "change" and not state.is_fresh(subject, now, step_up_max_age):
        return FreshOtpRequired(max_age=step_up_max_age)
    return None


def may_change_factors(
    state: SecondFactorState,
    subject: str,
    now: float,
    *,
    step_up_max_age: int,
    has_factor: bool,
) -> bool:
    """True if this session may change ``subject``'s factors now (see :func:`manage_error`)."""
    error = manage_error(
        state,
        subject,
        now,
        operation="change",
        step_up_max_age=step_up_max_age,
        has_factor=has_factor,
    )
    return error is None


#: The methods of one view that share its default transaction action: an HTML form sends only
#: GET or POST, and the code page posts the form back.
_FORM_METHODS = frozenset({"GET", "HEAD", "POST"})


def view_action(method: str, name: str) -> str:
    """The action a transaction code is bound to by default in a view named ``name`` (Django's
    view name, Flask's endpoint) answering ``method``: the name for GET, HEAD and POST, the
    method and the name for any other (``DELETE payments.payment``), so a code sent for one
    method of a view (pay) never confirms another of the same view (cancel)."""
    verb = method.upper()
    return name if verb in _FORM_METHODS else f"{verb} {name}"


def challenge_view(challenge: Challenge, now: float) -> dict[str, Any]:
    """The one JSON shape of a challenge for every integration: relative times, no secrets;
    ``browser_options`` for a factor the browser answers (a passkey)."""
    view: dict[str, Any] = {
        "id": challenge.id,
        "purpose": challenge.purpose,
        "status": challenge.status.value,
        "masked_phone": challenge.masked_phone,
        "attempts_left": challenge.attempts_left,
        "sends_left": challenge.sends_left,
        "expires_in": max(0, math.ceil(challenge.expires_at - now)),
        "resend_in": max(0, math.ceil(challenge.resend_at - now)),
        "bound_to_context": challenge.bound_to_context,
    }
    if challenge.browser_options is not None:  # a passkey: what the browser answers
        view["browser_options"] = challenge.browser_options
    return view


def factors_fingerprint(
    phones: Sequence[str],
    totp_created_at: float | None,
    recovery_left: int,
    emails: Sequence[str] = (),
    passkey_ids: Sequence[str] = (),
) -> str:
    """A value that changes whenever a subject's factors change (for device tokens); a
    subject without addresses or passkeys keeps the value it had before they existed."""
    parts: list[object] = [sorted(phones), totp_created_at, recovery_left > 0]
    if emails:
        parts.append(sorted(emails))
    if passkey_ids:
        parts.append({"passkeys": sorted(passkey_ids)})
    return json.dumps(parts)
