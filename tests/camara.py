"""A local CAMARA SIM Swap API (``POST /sim-swap/v2/check`` with its error bodies) and its
OAuth2 client-credentials token endpoint, checking what the specification requires; shared
by the delivery tests and the integrations' tests."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs

import pytest

from otpgate.gateways import CamaraSimSwap
from tests.delivery.servers import Answer, FakeServer

CLIENT_ID, CLIENT_SECRET = "otpgate-app", "camara-secret-0123456789"
SWAPPED = "+33612345678"
KEPT = "+33698765432"
ERRORS = {  # number -> (status, CAMARA code)
    "+33611111111": (404, "IDENTIFIER_NOT_FOUND"),
    "+33622222222": (429, "QUOTA_EXCEEDED"),
    "+33633333333": (503, "UNAVAILABLE"),
    "+33644444444": (403, "PERMISSION_DENIED"),
    "+33655555555": (422, "SERVICE_NOT_APPLICABLE"),
}
SLOW = "+33666666666"


def _error(status: int, code: str) -> Answer:
    body = {"status": status, "code": code, "message": f"{code} for this request"}
    return Answer(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


class Operator:
    """A CAMARA SIM Swap API and its token endpoint, checking what the specification asks."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.revoked: set[str] = set()
        self.token_status = 200
        self.expires_in = 3600

    def __call__(self, request):  # the FakeServer handler
        if request.path == "/oauth/token":
            return self.token(request)
        if request.path == "/sim-swap/v2/check":
            return self.check(request)
        return _error(404, "NOT_FOUND")

    def token(self, request):
        assert request.method == "POST"
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return Answer(401, b'{"error": "invalid_client"}')
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        assert form == {"grant_type": "client_credentials", "scope": "sim-swap:check"}
        if self.token_status != 200:
            return Answer(self.token_status, b'{"error": "temporarily_unavailable"}')
        self.tokens_issued += 1
        body = {
            "access_token": f"token-{self.tokens_issued}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def check(self, request):
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert len(request.headers["x-correlator"]) <= 256
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token.startswith("token-") or token in self.revoked:
            return _error(401, "UNAUTHENTICATED")
        body = json.loads(request.body)
        number, max_age = body.get("phoneNumber"), body.get("maxAge")
        if not isinstance(max_age, int) or not 1 <= max_age <= 2400:
            return _error(400, "OUT_OF_RANGE")
        if number == SLOW:
            time.sleep(1.0)
        if number in ERRORS:
            return _error(*ERRORS[number])
        return Answer(200, json.dumps({"swapped": number == SWAPPED}).encode())


@pytest.fixture
def camara():
    state = Operator()
    with FakeServer(state) as server:
        state.server = server
        yield state


def api(server: FakeServer) -> CamaraSimSwap:
    return CamaraSimSwap(
        f"{server.url}/sim-swap/v2", f"{server.url}/oauth/token", CLIENT_ID, CLIENT_SECRET
    )
