"""A tiny OpenID Connect provider on loopback, for allauth's ``openid_connect`` provider.

It speaks the authorization-code flow as the specification has it: discovery document,
``/authorize`` (signs in ``subject`` at once and redirects back with a code and the state),
``/token`` (the code and client secret for an access token and an RS256 ``id_token``),
``/userinfo`` (Bearer token) and ``/jwks``. A code is good once, for its redirect URI.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "otpgate-site"
CLIENT_SECRET = "otpgate-site-secret"  # a test double's


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Provider:
    """The provider's state: who signs in, codes and tokens issued, requests seen."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.subject = "bob-sub"
        self.email = "bob@example.com"
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (redirect_uri, nonce)
        self.tokens: dict[str, str] = {}  # access token -> subject
        self.seen: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": self.url + "/authorize",
            "token_endpoint": self.url + "/token",
            "userinfo_endpoint": self.url + "/userinfo",
            "jwks_uri": self.url + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        key = {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig"}
        return {"keys": [{**key, "n": _b64(numbers.n), "e": _b64(numbers.e)}]}

    def claims(self) -> dict[str, Any]:
        return {"sub": self.subject, "email": self.email, "email_verified": True, "name": "Bob"}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {**self.claims(), "iss": self.url, "aud": CLIENT_ID, "iat": now}
        claims["exp"] = now + 300
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            provider.seen.append(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._json(provider.discovery())
            elif parts.path == "/jwks":
                self._json(provider.jwks())
            elif parts.path == "/authorize":
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    self._json({"error": "invalid_request"}, 400)
                    return
                code = secrets.token_urlsafe(16)
                provider.codes[code] = (query["redirect_uri"], query.get("nonce", ""))
                back = {"code": code, "state": query.get("state", "")}
                self.send_response(302)
                self.send_header("Location", query["redirect_uri"] + "?" + urlencode(back))
                self.end_headers()
            elif parts.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in provider.tokens:
                    self._json({"error": "invalid_token"}, 401)
                    return
                self._json(provider.claims())
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            provider.seen.append(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/token":
                self._json({"error": "not_found"}, 404)
                return
            issued = provider.codes.pop(form.get("code", ""), None)
            client_ok = (form.get("client_id"), form.get("client_secret")) == (
                CLIENT_ID,
                CLIENT_SECRET,
            )
            if issued is None or not client_ok or issued[0] != form.get("redirect_uri"):
                self._json({"error": "invalid_grant"}, 400)
                return
            token = secrets.token_urlsafe(16)
            provider.tokens[token] = provider.subject
            body = {"access_token": token, "token_type": "Bearer", "expires_in": 300}
            self._json({**body, "id_token": provider.id_token(issued[1])})

    return Handler
