"""The GSMA/CAMARA *SIM Swap* network API, as the verifier's SIM-swap check.

``POST {base_url}/check`` with ``{"phoneNumber": "+33612345678", "maxAge": 240}`` answers
``{"swapped": true|false}``: whether the number's SIM changed within ``maxAge`` hours. Calls
carry a bearer token from the operator's (or aggregator's) OAuth2 token endpoint, obtained
with the client-credentials grant and kept until shortly before it expires. Errors come as
``{"status", "code", "message"}`` (``INVALID_ARGUMENT``, ``UNAUTHENTICATED``,
``PERMISSION_DENIED``, ``IDENTIFIER_NOT_FOUND``, ``QUOTA_EXCEEDED``...).

:class:`CamaraSimSwap` builds the requests and reads the replies, with no I/O: its
:meth:`~CamaraSimSwap.exchange` is a generator that yields each request and is sent each
reply, so :class:`~otpgate.gateways.simswap_client.SimSwapClient` (httpx) and
:class:`~otpgate.gateways.simswap_client.AsyncSimSwapClient` (``httpx.AsyncClient``) decide
exactly alike. Every failure is an ``unknown`` answer with a short reason, never an
exception and never the number.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field

from otpgate.core.errors import ConfigurationError
from otpgate.core.simswap import SimSwapAnswer

from .base import HttpReply, HttpRequest, check_url, require

#: A transport failure the driver reports instead of a reply (``"timeout"``, ``"connect"``).
Failure = str
#: What an exchange is sent back: the reply to the request it yielded, or a failure.
Outcome = HttpReply | Failure

_CODE = re.compile(r"[A-Z][A-Z0-9_.]{0,63}")
#: Seconds before a token's stated expiry when a new one is fetched instead.
TOKEN_MARGIN = 30.0


@dataclass
class AccessToken:
    """A bearer token and the time (the client's clock) it stops being used."""

    value: str = field(repr=False)
    expires_at: float


def _error_code(reply: HttpReply) -> str:
    """CAMARA's error ``code`` when it is one of its constants; "" otherwise."""
    try:
        body = json.loads(reply.body)
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _CODE.fullmatch(code) else ""


def _unknown(reply: HttpReply, what: str = "http") -> SimSwapAnswer:
    code = _error_code(reply)
    return SimSwapAnswer("unknown", f"{what}_{reply.status}" + (f" {code}" if code else ""))


class CamaraSimSwap:
    """Request building and reply parsing for a CAMARA SIM Swap API (no I/O).

    ``base_url`` is the API's root including its version (``https://api.example.com/
    sim-swap/v2``); ``token_url`` the OAuth2 token endpoint; ``client_id`` and
    ``client_secret`` this application's credentials there; ``scope`` what the token asks for.
    """

    name = "camara_sim_swap"

    def __init__(
        self,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str = "sim-swap:check",
    ) -> None:
        self.check_url = check_url(base_url, "sim swap base_url").rstrip("/") + "/check"
        self.token_url = check_url(token_url, "sim swap token_url")
        self.client_id = require(client_id, "sim swap client_id")
        self._secret = require(client_secret, "sim swap client_secret")
        if not isinstance(scope, str):
            raise ConfigurationError("sim swap scope", "must be text")
        self.scope = scope

    def token_request(self) -> HttpRequest:
        """The client-credentials grant (RFC 6749 §4.4), client authenticated by basic auth."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        return HttpRequest(
            "POST",
            self.token_url,
            headers={"Accept": "application/json"},
            form=form,
            auth=(self.client_id, self._secret),
        )

    def parse_token(self, reply: HttpReply, now: float) -> AccessToken | SimSwapAnswer:
        """The token and when to stop using it, or an ``unknown`` answer saying why not."""
        if not 200 <= reply.status < 300:
            return SimSwapAnswer("unknown", f"token_http_{reply.status}")
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            return SimSwapAnswer("unknown", "token_bad_reply")
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 300.0
        return AccessToken(value, now + max(0.0, seconds - TOKEN_MARGIN))

    def check_request(self, e164: str, max_age_hours: int, token: AccessToken) -> HttpRequest:
        """``POST …/check`` for ``e164`` over the last ``max_age_hours`` (1 to 2400)."""
        body = json.dumps({"phoneNumber": e164, "maxAge": max_age_hours}).encode()
        headers = {
            "Authorization": f"Bearer {token.value}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "x-correlator": str(uuid.uuid4()),
        }
        return HttpRequest("POST", self.check_url, headers=headers, content=body)

    def parse_check(self, reply: HttpReply) -> SimSwapAnswer:
        """``swapped``/``not_swapped`` from a 200, else ``unknown`` with the status and code."""
        if reply.status != 200:
            return _unknown(reply)
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        swapped = body.get("swapped") if isinstance(body, dict) else None
        if not isinstance(swapped, bool):
            return SimSwapAnswer("unknown", "bad_reply")
        return SimSwapAnswer("swapped" if swapped else "not_swapped")

    def exchange(
        self, e164: str, max_age_hours: int, token: AccessToken | None, now: float
    ) -> Generator[HttpRequest, Outcome, tuple[SimSwapAnswer, AccessToken | None]]:
        """Ask about ``e164``: yields each request, is sent its reply or a failure, and
        returns the answer with the token to keep (None: forget it).

        A token is fetched when none is valid; a check refused with 401 fetches a new token
        and asks once more (the old one may have been revoked before its stated expiry).
        """
        for attempt in range(2):
            if token is None or token.expires_at <= now:
                outcome = yield self.token_request()
                if isinstance(outcome, Failure):
                    return SimSwapAnswer("unknown", f"token_{outcome}"), None
                parsed = self.parse_token(outcome, now)
                if isinstance(parsed, SimSwapAnswer):
                    return parsed, None
                token = parsed
            outcome = yield self.check_request(e164, max_age_hours, token)
            if isinstance(outcome, Failure):
                return SimSwapAnswer("unknown", outcome), token
            if outcome.status == 401 and attempt == 0:
                token = None
                continue
            return self.parse_check(outcome), (None if outcome.status == 401 else token)
        raise AssertionError("unreachable")  # pragma: no cover

    def __repr__(self) -> str:
        return f"CamaraSimSwap(check_url={self.check_url!r}, client_id={self.client_id!r})"
