"""Request helpers: session state, locale, JSON or HTML, CSRF, rendering and errors."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from contextlib import suppress
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from flask import current_app, g, jsonify, make_response, render_template, request, session
from flask import globals as flask_globals
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from otpgate.core.bodies import MAX_BODY_BYTES, parse_json_object, too_large
from otpgate.core.challenge import Challenge
from otpgate.core.errors import CsrfFailed, MalformedInput, OtpgateError
from otpgate.core.factors import selection
from otpgate.core.framing import CSP, X_FRAME_OPTIONS, add_framing_headers
from otpgate.core.http import error_response
from otpgate.core.i18n import gettext, is_bidi, language_of, negotiate, wait_text
from otpgate.core.web import SESSION_KEY, SecondFactorState, challenge_view

if TYPE_CHECKING:
    from contextvars import ContextVar

    from flask.ctx import RequestContext

    from .extension import GateState

CSRF_SESSION_KEY = "_otpgate_csrf"
#: The guard's remembered "no factor enrolled" (``known_factors.py``).
NO_FACTOR_SESSION_KEY = "_otpgate_no_factor"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
_AUTH_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds", CSRF_SESSION_KEY)
_MAX_FIELD = 4096
#: What :func:`rotate_session` drops: otpgate's state, and for a sign-in the old sign-in too.
_DROPPED_ON_STEP_UP = frozenset({SESSION_KEY, NO_FACTOR_SESSION_KEY})
_DROPPED_ON_SIGN_IN = _DROPPED_ON_STEP_UP | frozenset(_AUTH_KEYS)


def state() -> GateState:
    """The current app's otpgate state (``extension.gate_state``: it raises if otpgate is not
    set up). Called several times on many requests: the extension module is imported once
    (an import statement in a function costs a lookup under the import lock each time)."""
    if not _GATE_STATE:
        from .extension import gate_state

        _GATE_STATE.append(gate_state)
    return _GATE_STATE[0]()


#: ``extension.gate_state``, once imported (the extension imports this module).
_GATE_STATE: list[Callable[[], GateState]] = []


#: The context variable behind Flask's ``request`` and ``session`` proxies (Flask 3.0, 3.1).
_REQUEST_CONTEXT: ContextVar[RequestContext] | None = getattr(flask_globals, "_cv_request", None)


def request_context() -> RequestContext:
    """The current request's context, whose ``request``, ``session`` and ``app`` are those
    the ``request``, ``session`` and ``current_app`` proxies stand for. Read from the
    context variable itself: each read through a proxy costs a werkzeug ``LocalProxy``
    lookup, and the guard runs on every page. Outside a request: RuntimeError, as the
    proxies. (A Flask without that variable: through its ``request_ctx`` proxy.)"""
    if _REQUEST_CONTEXT is None:
        proxy = flask_globals.request_ctx
        return cast("RequestContext", proxy._get_current_object())  # type: ignore[attr-defined]
    found = _REQUEST_CONTEXT.get(None)  # (no typing.cast: a call on every page)
    if found is None:
        raise RuntimeError("Working outside of request context.")
    return found


def has_factor(subject: str) -> bool:
    """True if ``subject`` has a second factor: any factor registered in the core counts
    (the core's decision, ``selection.has_factor``), not only otpgate's own."""
    verifier = state().verifier
    return selection.has_factor(verifier.registry, verifier.factors(subject))


def now() -> float:
    return state().verifier.clock()


def load_state() -> SecondFactorState:
    return SecondFactorState.load(session)


def save_state(second_factor: SecondFactorState) -> None:
    session[SESSION_KEY] = second_factor.dump()


def rotate_session(*, keep_auth: bool) -> None:
    """Regenerate the session after a passed second factor: server-side session interfaces
    that can (Flask-Session's ``regenerate``) get a new id, and a fresh nonce changes the
    signed cookie. Without ``keep_auth`` (a sign-in) the old sign-in and CSRF token go too."""
    dropped = _DROPPED_ON_STEP_UP if keep_auth else _DROPPED_ON_SIGN_IN
    current = session._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if callable(regenerate):  # a new id for what is kept
        keep = {k: v for k, v in current.items() if k not in dropped}
        current.clear()
        regenerate(current)
        current.update(keep)
    else:
        for key in dropped.intersection(current):
            del current[key]
    current["_otpgate_nonce"] = secrets.token_urlsafe(8)


# -- language ------------------------------------------------------------------------------------


def locale() -> str:
    """The request's language: the app's selector, else the best of Accept-Language among
    ``OTPGATE_LANGUAGES``, else the default locale."""
    gate = state()
    if gate.locale_selector is not None:
        chosen = gate.locale_selector()
        if chosen:
            return language_of(chosen, gate.settings.default_locale)
    accept = request.headers.get("Accept-Language")
    return negotiate(accept, gate.settings.default_locale, gate.languages)


def html_lang(language: str) -> str:
    """The ``lang`` attribute of a page in ``language`` (already a BCP 47 tag)."""
    return language


def translate(text: str, **values: Any) -> str:
    """``text`` in the request's language, with ``{name}`` placeholders filled in."""
    translated = gettext(text, locale())
    return translated.format(**values) if values else translated


# -- input ---------------------------------------------------------------------------------------


def wants_json() -> bool:
    """True for API calls: a JSON body, or an Accept header preferring JSON to HTML."""
    return request.is_json or _prefers_json(request.headers.get("Accept"))


@lru_cache(maxsize=64)
def _prefers_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers JSON to HTML (werkzeug's parse and best match,
    as ``request.accept_mimetypes``). A client sends the same header on every request: the
    answer is kept per header text (a few dozen; others are parsed again)."""
    mimetypes = parse_accept_header(accept, MIMEAccept)
    best = mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and mimetypes[best] > mimetypes["text/html"]


def check_body() -> None:
    """Before otpgate's views: refuse, as MalformedInput, a body over ``MAX_BODY_BYTES`` or a
    JSON body the core's parser refuses, so no view acts on a request it cannot read. With
    Flask 3.1+ a body of undeclared length is cut off there too (werkzeug's 413, which the
    blueprint answers as MalformedInput)."""
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    if too_large(current.content_length):
        raise MalformedInput("The request body is too large.")
    limit = current.max_content_length
    if limit is None or limit > MAX_BODY_BYTES:
        with suppress(AttributeError):  # read-only before Flask 3.1
            current.max_content_length = MAX_BODY_BYTES
    if current.is_json:
        json_body()


def is_post() -> bool:
    """True only for POST: the one method that takes a state-changing branch of a view
    (HEAD, OPTIONS and any other method are answered like GET, and CSRF skips only those)."""
    return request.method == "POST"


def json_body() -> Mapping[str, Any]:
    """The request's JSON object ({} unless the body is JSON); MalformedInput for a body
    the core's parser refuses (too large, not UTF-8, broken, too deep, not an object)."""
    if not request.is_json:
        return {}
    cached = g.get("_otpgate_json")
    if cached is None:
        cached = parse_json_object(request.get_data(cache=True))
        g._otpgate_json = cached
    return cast("Mapping[str, Any]", cached)


def field(name: str, default: object = None) -> object:
    """A field of the JSON body or the form; text longer than 4 kB is refused."""
    value = json_body().get(name, default) if request.is_json else request.form.get(name, default)
    if isinstance(value, str) and len(value) > _MAX_FIELD:
        raise MalformedInput("A field is too long.")
    return value


def text_field(name: str) -> str:
    value = field(name, "")
    if not isinstance(value, str):
        raise MalformedInput(f"The field {name!r} must be text.")
    return value


def client_ip() -> str | None:
    return request.remote_addr


# -- CSRF ----------------------------------------------------------------------------------------


def _flask_wtf_active() -> bool:
    return "csrf" in current_app.extensions


def csrf_token() -> str:
    """This session's CSRF token (Flask-WTF's when its CSRFProtect is set up). Forms send it
    as the ``csrf_token`` field, scripts as the ``X-CSRFToken`` header."""
    if _flask_wtf_active():
        from flask_wtf.csrf import generate_csrf  # type: ignore[import-untyped]

        return str(generate_csrf())
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def check_csrf() -> None:
    """Raise :class:`CsrfFailed` unless the request carries this session's token; safe
    methods (GET, HEAD, OPTIONS) pass, so call it in a view's POST branch (``if
    request.method == "POST"``, never an ``else`` of GET). Wherever it is raised, the app
    answers 403 (``init_app`` registers the handler): problem JSON for API calls, the error
    page otherwise. With Flask-WTF's CSRFProtect set up, its token is the one checked, here
    too: also where Flask-WTF does not check by itself (``WTF_CSRF_CHECK_DEFAULT = False``,
    exempt views); only ``WTF_CSRF_ENABLED = False`` turns it off."""
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    if current.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if _flask_wtf_active():
        _flask_wtf_protect()
        return
    sent = current.headers.get(CSRF_HEADER) or current.form.get(CSRF_FIELD)
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise CsrfFailed()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()


def _flask_wtf_protect() -> None:
    """Flask-WTF's check of this request (whatever its defaults and exemptions), failing as
    :class:`CsrfFailed`."""
    from flask_wtf.csrf import CSRFError

    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        current_app.extensions["csrf"].protect()
    except CSRFError:
        raise CsrfFailed() from None


# -- output --------------------------------------------------------------------------------------


def json_error(error: OtpgateError, **extra: Any) -> Response:
    """The core's problem-details answer for ``error`` (plus ``extra`` members)."""
    answer = error_response(error, locale(), now=now())
    response = jsonify({**answer.body, **extra})
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response


def json_ok(data: Mapping[str, Any], status: int = 200) -> Response:
    response = jsonify(dict(data))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def render(
    template: str | list[Any], *, status: int = 200, error: OtpgateError | None = None, **ctx: Any
) -> Response:
    """Render one of otpgate's pages in the request's language; never cached, never framed
    (unless ``OTPGATE_FRAME_ANCESTORS`` allows it)."""
    language = locale()
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    shown: dict[str, Any] | None = None
    if error is not None:
        answer = error_response(error, language)
        status = answer.status
        for name in ("Retry-After", "Allow"):
            if name in answer.headers:
                headers[name] = answer.headers[name]
        shown = {
            "code": error.code,
            "message": answer.body["title"],
            "retry_after": error.retry_after,
            "wait": wait_text(error.retry_after, language) if error.retry_after else "",
        }
    html = render_template(
        template,
        _=translate,
        otpgate_lang=html_lang(language),
        otpgate_dir="rtl" if is_bidi(language) else "ltr",
        otpgate_base=state().base_template,
        otpgate_bp=state().blueprint,
        otpgate_home=state().home_url,
        nb=no_break,
        error=shown,
        **ctx,
    )
    response = make_response(html, status)
    response.headers.update(headers)
    return protect(response)


def protect(response: Response) -> Response:
    """Add the framing headers (``OTPGATE_FRAME_ANCESTORS``) to ``response``."""
    headers, gate = response.headers, state()
    if CSP in headers or X_FRAME_OPTIONS in headers:  # the core's rule for what is there
        add_framing_headers(headers, gate.settings)
    else:  # neither yet: the settings' two headers, worked out once per app
        headers.extend(gate.framing_headers)
    return response


def no_break(text: str) -> str:
    """``text`` with non-breaking spaces, so a masked number never wraps in two; on a
    right-to-left page, isolated left to right (U+2066 … U+2069), so ``+33 ••• 5678`` keeps
    its order."""
    kept = text.replace(" ", "\u00a0")
    return f"\u2066{kept}\u2069" if is_bidi(locale()) else kept


def challenge_json(challenge: Challenge | None) -> dict[str, Any] | None:
    """The core's one JSON shape of a challenge (times relative to now), or None."""
    return challenge_view(challenge, now()) if challenge is not None else None


def wait_seconds(challenge: Challenge | None) -> int:
    """Seconds until the challenge may be resent (0: now)."""
    view = challenge_json(challenge)
    return int(view["resend_in"]) if view is not None else 0
