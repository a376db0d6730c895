"""Errors as RFC 9457 problem details, through the core's one mapping (``error_response``).

- :func:`problem_response` renders any :class:`~otpgate.OtpgateError` (``application/problem+json``,
  ``Retry-After``; ``WWW-Authenticate``, RFC 9470 for step-up and transactions);
- :class:`ProblemRoute` does it for otpgate's own routes, request validation errors included;
- :data:`EXCEPTION_HANDLERS` does it app-wide, for routes that use otpgate's dependencies;
- :func:`problem_responses` documents those answers in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping, MutableMapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from otpgate.core.answers import TransactionChallenged as TransactionChallenged
from otpgate.core.answers import TransactionSetupRequired as TransactionSetupRequired
from otpgate.core.errors import (
    EnrollmentRequired,
    FactorNotEnrolled,
    FreshOtpRequired,
    MalformedInput,
    MethodNotAllowed,
    OtpgateError,
    OtpRequired,
)
from otpgate.core.framing import add_framing_headers, framing_headers
from otpgate.core.http import PROBLEM_CONTENT_TYPE, error_response
from otpgate.core.i18n import negotiate

from .models import Problem, inline_schema
from .request_body import check_body

if TYPE_CHECKING:
    from otpgate.core.settings import Settings


def request_locale(request: Request) -> str | None:
    """The best language of ``Accept-Language`` otpgate has text for, or None if no header."""
    header = request.headers.get("accept-language")
    return negotiate(header) if header else None


def problem_response(error: OtpgateError, locale: str | None = None, **extra: Any) -> JSONResponse:
    """``error`` as an ``application/problem+json`` response, via the core's mapping
    (:class:`TransactionChallenged` and :class:`TransactionSetupRequired` live in the core's
    ``answers`` now, imported here as before);
    ``extra`` (and a transaction error's ``members``) adds members to the body."""
    mapped = error_response(error, locale, now=getattr(error, "now", None))
    members = getattr(error, "members", None)  # what a transaction's answer adds
    members = members if isinstance(members, dict) else {}
    links = {**members.get("links", {}), **extra.get("links", {})}
    extra = {**members, **extra, **({"links": links} if links else {})}
    return JSONResponse({**mapped.body, **extra}, status_code=mapped.status, headers=mapped.headers)


def validation_problem(error: RequestValidationError, request: Request) -> JSONResponse:
    """A request that failed validation, as the core's ``malformed_input`` problem (400).
    Says where and why, never echoing the value (it may be a code)."""
    details = [
        {
            "loc": [part if isinstance(part, int) else str(part)[:64] for part in item["loc"]],
            "type": str(item.get("type", ""))[:64],
            "msg": str(item.get("msg", ""))[:200],
        }
        for item in list(error.errors())[:20]
    ]
    return problem_response(MalformedInput(), request_locale(request), errors=details)


#: The errors that say a second factor is missing: their answers link to the routes that
#: find, add, start and pass one (``links``), so an API client never meets a dead end.
_MISSING_FACTOR = (OtpRequired, FreshOtpRequired, EnrollmentRequired, FactorNotEnrolled)


def problem_links(error: OtpgateError, prefix: str | None) -> dict[str, Any]:
    """``{"links": {...}}`` for an error saying a second factor is missing (the paths of the
    router mounted at ``prefix``), else ``{}``: ``offer`` (what the subject may use for a
    step-up), ``enroll`` (what they can add: ``factor_setup_required``, a factor they lack),
    ``start`` and ``verify``."""
    if prefix is None or not isinstance(error, _MISSING_FACTOR):
        return {}
    offer = f"{prefix}/factors/offer"
    return {
        "links": {
            "offer": f"{offer}?purpose=action",
            "enroll": f"{offer}?purpose=enroll",
            "start": f"{prefix}/factors/start",
            "verify": f"{prefix}/verify",
        }
    }


async def _handle_otpgate_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OtpgateError)
    return problem_response(error, request_locale(request))


def exception_handlers(
    prefix: str,
) -> dict[Any, Callable[[Request, Exception], Coroutine[Any, Any, Response]]]:
    """:data:`EXCEPTION_HANDLERS` whose answers link to otpgate's router at ``prefix``
    (:func:`problem_links`): what ``OtpGate.install`` registers."""

    async def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, OtpgateError)
        return problem_response(error, request_locale(request), **problem_links(error, prefix))

    return {OtpgateError: handle}


async def handle_validation_error(request: Request, error: Exception) -> Response:
    """An exception handler: request validation errors as :func:`validation_problem`."""
    assert isinstance(error, RequestValidationError)
    return validation_problem(error, request)


#: ``FastAPI(exception_handlers=EXCEPTION_HANDLERS)``: otpgate errors raised anywhere in the
#: app (e.g. by ``require_transaction`` on the app's own routes) become problem details.
EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Coroutine[Any, Any, Response]]] = {
    OtpgateError: _handle_otpgate_error,
}


class ProblemRoute(APIRoute):
    """Renders otpgate errors and validation errors of this route as problem details, so
    otpgate's router answers alike whatever exception handlers the app has; refuses, before
    anything reads them, bodies the core's parser refuses (``malformed_input``); marks every
    answer ``Cache-Control: no-store`` (some carry secrets shown once) and never to be framed
    (the framing headers of :attr:`settings`, or the default: deny). A method the route does
    not answer is ``method_not_allowed`` (405, ``Allow``: every method otpgate answers on
    that path) as problem details too, not Starlette's ``{"detail": ...}``; the app's own
    routes keep their answers. HEAD is answered wherever GET is: the GET's headers, no body
    (otpgate's GET routes only read)."""

    settings: ClassVar[Settings | None] = None
    #: Where otpgate's router is mounted: errors saying a factor is missing link to it.
    links_prefix: ClassVar[str | None] = None
    #: Every method otpgate's routes answer, by path (:func:`share_allow`, per router).
    allowed_by_path: ClassVar[dict[str, tuple[str, ...]]] = {}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            response: Response
            try:
                await check_body(request)
                response = await handler(request)
            except OtpgateError as error:
                links = problem_links(error, self.links_prefix)
                response = problem_response(error, request_locale(request), **links)
            except RequestValidationError as error:
                response = validation_problem(error, request)
            return self._finished(response)

        return route_handler

    def _finished(self, response: Response) -> Response:
        raw = response.raw_headers
        if any(name in _FINISHING for name, _ in raw):
            headers = response.headers  # one of them is set already: keep, replace, complete
            headers["Cache-Control"] = "no-store"
            add_framing_headers(headers, self.settings)
        else:  # the usual answer: the same headers, appended as MutableHeaders would
            raw.extend(_finishing_headers(self.settings))
        return response

    def allowed(self) -> tuple[str, ...]:
        """The methods of this route's path: of every route of it (the router's path is the
        end of this one's, which an app's ``include_router`` prefix may precede), else its
        own, HEAD wherever GET is."""
        known = [path for path in self.allowed_by_path if self.path.endswith(path)]
        if known:
            return self.allowed_by_path[max(known, key=len)]
        return _with_head(set(self.methods or ()))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "HEAD" and "GET" in (self.methods or ()):
            await super().handle({**scope, "method": "GET"}, receive, _bodiless(send))
            return
        if self.methods and scope["method"] not in self.methods:
            error = MethodNotAllowed(allowed=self.allowed())
            answer = problem_response(error, request_locale(Request(scope)))
            await self._finished(answer)(scope, receive, send)
            return
        await super().handle(scope, receive, send)


#: The headers ``ProblemRoute._finished`` sets (raw names, as Starlette keeps them).
_FINISHING = frozenset({b"cache-control", b"x-frame-options", b"content-security-policy"})
_finishing: tuple[Settings | None, tuple[tuple[bytes, bytes], ...]] | None = None


def _finishing_headers(settings: Settings | None) -> tuple[tuple[bytes, bytes], ...]:
    """``Cache-Control: no-store`` and the framing headers of ``settings``, as raw headers
    (the last ``settings``' kept: a gate's routes all share theirs)."""
    global _finishing
    if _finishing is None or _finishing[0] is not settings:
        found = {"Cache-Control": "no-store", **framing_headers(settings)}
        raw = tuple(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in found.items()
        )
        _finishing = (settings, raw)
    return _finishing[1]


def _bodiless(send: Send) -> Send:
    """``send`` for a HEAD answered by its GET: the headers (``Content-Length`` too), no body."""

    async def sending(message: MutableMapping[str, Any]) -> None:
        if message.get("type") == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return sending


def _with_head(methods: set[str]) -> tuple[str, ...]:
    return tuple(sorted(methods | ({"HEAD"} if "GET" in methods else set())))


def share_allow(route_class: type[ProblemRoute], routes: Iterable[BaseRoute]) -> None:
    """Tell ``route_class`` (a router's, once its ``routes`` are built) every method each
    path answers: a wrong method reaches the first route of a path only, which knows its own
    methods alone (and ``include_router`` may copy the routes)."""
    by_path: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, ProblemRoute):
            by_path.setdefault(route.path, set()).update(route.methods or ())
    route_class.allowed_by_path = {path: _with_head(methods) for path, methods in by_path.items()}


# --- OpenAPI -------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Malformed input, or a wrong or reused code: `malformed_input`, `invalid_code`, "
    "`replayed`; a passkey's answer that does not verify (`passkey_rejected`) or whose "
    "counter went backwards (`sign_count_regression`: maybe a cloned authenticator).",
    401: "`login_required` (no authenticated subject), or `fresh_otp_required`: a recent "
    'second factor is required (RFC 9470: `WWW-Authenticate: Bearer error="insufficient_user_'
    'authentication", max_age="…"`; `links` names the routes that offer, start and pass a '
    "factor, or add one), or, for a transaction, `confirmation_required`: it is "
    "waiting for a code of `factor` (the subject's preferred one, or the one the request's "
    "`OTP-Factor` header chose among `factors`); `challenge` is the SMS sent (with the "
    "details), or a passkey's challenge (its `browser_options`: the browser's JSON answer "
    "is the code), null for an authenticator app (nothing sent). Repeat the request with "
    "the `OTP-Challenge` (`challenge_id`, also in this answer's header) and `OTP-Code` "
    "headers.",
    403: "`factor_not_allowed`: the factor cannot serve this purpose; choose another one.",
    409: "`factor_not_enrolled` or `factor_setup_required` (no factor of the subject's can "
    "serve this: `links` names where to add one), `factor_not_preferable` (a recovery "
    "code cannot be the preferred factor), `factor_already_enrolled`, "
    "`sms_temporarily_unavailable` (codes by SMS are paused for this subject, e.g. a recent "
    "SIM swap: use another factor), or "
    "`context_mismatch` (the code was issued for other transaction details); for a "
    "transaction also `transaction_executed` (with its recorded `outcome`) or "
    "`transaction_in_progress`.",
    410: "`expired` (expired, used, canceled or unknown challenge) or `max_attempts_reached`.",
    422: "The phone number cannot receive codes: `phone_invalid`, `phone_region_not_allowed`, "
    "`phone_network_not_allowed`, `phone_type_not_allowed`.",
    423: "`locked_out`: too many failures; the second factor is locked until support lifts it.",
    429: "`resend_cooldown`, `send_limit_reached` or `locked_out`; wait `Retry-After` seconds.",
    502: "`delivery_failed`: the SMS could not be sent; `challenge_id` can be resent.",
    503: "`storage_unavailable`: the second-factor store is down. Never an approval.",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`; with RFC 9470 `error`, `error_description` (and "
            "`max_age` for step-up) when a second factor is needed.",
            "schema": {"type": "string"},
        },
        "OTP-Challenge": {
            "description": "`confirmation_required`: the confirmation to send back with the "
            "code (`OTP-Challenge` request header).",
            "schema": {"type": "string"},
        },
    },
    502: {
        "OTP-Challenge": {
            "description": "The challenge whose SMS failed: resend it.",
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
}
PROBLEM_SCHEMA = inline_schema(Problem)


def problem_responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for ``statuses``, each an ``application/problem+json``
    :class:`Problem`; plus ``4XX``, as every other client error is a problem too.
    ``descriptions`` replaces otpgate's description of a status."""
    content = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        description = (descriptions or {}).get(status) or _DESCRIPTIONS.get(status)
        entry: dict[str, Any] = {
            "description": description or HTTPStatus(status).phrase,
            "content": content,
        }
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        responses[status] = entry
    responses["4XX"] = {"description": "Any other client error.", "content": content}
    return responses
