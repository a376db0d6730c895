"""A payments API: a payment executes only once its owner confirms it with an SMS code bound
to its amount, currency and payee.

    pip install -e ".[fastapi]" uvicorn
    python examples/fastapi_service/app.py        # http://127.0.0.1:8000/docs

Demo bearer tokens: ``alice-token`` (alice, +33 6 12 34 56 78) and ``bob-token`` (bob,
+49 151 12345678). The SMS is printed in this terminal (``DEMO_OTPGATE_SENDER=inbox``: in the
dev inbox). Embedded defaults: in-memory challenge store, credentials in a SQLite file made
for this run, and a key for this run; set ``OTPGATE_SECRET_KEYS``, ``OTPGATE_STORE`` (or
``DEMO_OTPGATE_STORE``) and ``OTPGATE_DATABASE_URL`` for more. The client IP (per-IP SMS
budgets) is the connection's: ``X-Forwarded-For`` is ignored unless
``--forwarded-allow-ips`` names the proxies to trust it from.

    curl -s -X POST localhost:8000/payments -H 'Authorization: Bearer alice-token' \\
         -H 'Content-Type: application/json' \\
         -d '{"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}'
    curl -si -X POST localhost:8000/payments/<id>/execute -H 'Authorization: Bearer alice-token'
    # 401 confirmation_required, with the OTP-Challenge header; the code is printed here. Then:
    curl -si -X POST localhost:8000/payments/<id>/execute -H 'Authorization: Bearer alice-token' \\
         -H 'OTP-Challenge: <challenge id>' -H 'OTP-Code: <code>'
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.exceptions import HTTPException as StarletteHTTPException

from otpgate import LoginRequired, generate_secret_key
from otpgate.core.framing import add_framing_headers
from otpgate.demo.common import (
    FASTAPI_USERS,
    demo_email_sender,
    demo_redis_url,
    demo_sender,
    factor_settings,
    redis_prefix,
)
from otpgate.integrations.fastapi import (
    OtpGate,
    VerifiedTransaction,
    problem_responses,
)

logger = logging.getLogger("payments")

DEMO_TOKENS = {user.password: user.name for user in FASTAPI_USERS}
DEMO_PHONES = {user.name: str(user.phone) for user in FASTAPI_USERS}
#: Variables of other otpgate tools, not settings of this app.
NOT_SETTINGS = ("OTPGATE_INBOX_DB",)


class NewPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2, examples=["250.00"])
    currency: Literal["EUR", "USD", "GBP"]
    payee: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")] = Field(
        description="The payee's IBAN.", examples=["DE89370400440532013000"]
    )


class Payment(BaseModel):
    id: str
    amount: str
    currency: str
    payee: str
    status: Literal["pending", "executed"]
    created_at: datetime
    executed_at: datetime | None = None


@dataclass
class Ledger:
    """The payments, in memory. ``execute`` has no ``await`` inside: atomic on the loop."""

    payments: dict[str, tuple[str, Payment]]
    executions: int = 0

    def get(self, owner: str, payment_id: str) -> Payment:
        found = self.payments.get(payment_id)
        if found is None or found[0] != owner:
            raise HTTPException(404, "No such payment.")
        return found[1]

    def execute(self, owner: str, payment_id: str) -> Payment:
        payment = self.get(owner, payment_id)
        if payment.status == "executed":
            raise HTTPException(409, "This payment was executed already.")
        done = payment.model_copy(update={"status": "executed", "executed_at": _now()})
        self.payments[payment_id] = (owner, done)
        self.executions += 1
        logger.info("payment %s executed", payment_id)
        return done


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc)


bearer = HTTPBearer(auto_error=False, description="Demo tokens: alice-token, bob-token.")


async def current_subject(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The app's authentication (here: demo tokens). Any auth works: OAuth2, API keys..."""
    subject = DEMO_TOKENS.get(credentials.credentials if credentials else "")
    if subject is None:
        raise LoginRequired()
    return subject


def default_gate(scratch: str) -> OtpGate:
    """The gate from ``OTPGATE_*`` variables, with embedded defaults for a demo (files, if
    any, in the ``scratch`` directory)."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_SETTINGS}
    # one uvicorn process (main): the in-memory store is meant, no WARNING about workers
    options: dict[str, Any] = {"sender": demo_sender(), "single_process": True}
    if (email_sender := demo_email_sender()) is not None:  # the dev inbox under `otpgate demo`
        options["email_sender"] = email_sender
    if not env.get("OTPGATE_STORE") and not env.get("OTPGATE_REDIS_URL") and demo_redis_url():
        env["OTPGATE_STORE"] = str(demo_redis_url())
        options["redis_options"] = {"prefix": redis_prefix("fastapi")}
    if not env.get("OTPGATE_SECRET_KEYS"):
        env["OTPGATE_SECRET_KEYS"] = generate_secret_key()  # for this run only
    env.setdefault("OTPGATE_BRAND", "Demo Bank")
    for key, value in factor_settings().items():  # remembered devices, passkeys
        env.setdefault(key, str(value).lower() if isinstance(value, bool) else str(value))
    if not env.get("OTPGATE_DATABASE_URL"):  # a fresh SQLite file for this run (the key is too)
        env["OTPGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{scratch}/otpgate.db"
    return OtpGate.from_env(env, current_subject=current_subject, **options)


def make_fastapi(**options: Any) -> FastAPI:
    """A FastAPI app whose /docs page serves Swagger UI from files on this machine when
    fastapi-offline is installed (the ``demo`` extra brings it), so the page works without
    a CDN; else FastAPI's own pages, which load Swagger UI from a CDN."""
    try:
        offline = importlib.import_module("fastapi_offline")
    except ImportError:
        return FastAPI(**options)
    app: FastAPI = offline.FastAPIOffline(**options)
    return app


def create_app(gate: OtpGate | None = None) -> FastAPI:
    """The payments app around ``gate`` (default: :func:`default_gate`)."""
    # Made when the app starts (an app whose lifespan never runs leaves nothing behind).
    scratch = os.path.join(tempfile.gettempdir(), f"otpgate-demo-api-{secrets.token_hex(6)}")
    gate = gate or default_gate(scratch)
    ledger = Ledger({})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            os.makedirs(scratch, mode=0o700, exist_ok=True)
            async with gate.lifespan(app):
                for subject, phone in DEMO_PHONES.items():  # verified numbers of the demo users
                    await gate.verifier.credentials.add_phone(subject, phone)
                yield
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    app = make_fastapi(title="Payments (otpgate demo)", lifespan=lifespan)
    app.state.ledger = ledger
    gate.install(app, validation_errors=True)  # problem details for the app's routes too

    @app.middleware("http")
    async def deny_framing(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        add_framing_headers(response.headers, gate.settings)  # /docs too: never in a frame
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
        body = {"type": "about:blank", "title": error.detail, "status": error.status_code}
        body["code"] = {404: "not_found", 409: "already_executed"}.get(error.status_code, "http")
        return JSONResponse(
            body, error.status_code, headers=error.headers, media_type="application/problem+json"
        )

    async def payment_details(
        payment_id: Annotated[str, Path(max_length=64)],
        subject: str = Depends(gate.current_subject),
    ) -> Mapping[str, Any]:
        payment = ledger.get(subject, payment_id)
        return {
            "payment": payment.id,
            "amount": payment.amount,
            "currency": payment.currency,
            "payee": payment.payee,
        }

    def summary(details: Mapping[str, Any]) -> str:
        return f"payment of {details['amount']} {details['currency']} to ...{details['payee'][-4:]}"

    confirm = gate.require_transaction(payment_details, summary=summary)

    @app.post("/payments", status_code=201, responses=problem_responses(400, 401))
    async def create_payment(
        body: NewPayment, subject: str = Depends(gate.current_subject)
    ) -> Payment:
        """Create a payment; it waits for its owner's confirmation."""
        payment = Payment(
            id=secrets.token_urlsafe(12),
            amount=f"{body.amount:.2f}",
            currency=body.currency,
            payee=body.payee,
            status="pending",
            created_at=_now(),
        )
        ledger.payments[payment.id] = (subject, payment)
        return payment

    missing = {
        404: "No such payment (of this user).",
        409: "Executed already (`transaction_executed`, with its `outcome`), or "
        "`factor_setup_required`: no factor may confirm it (`links.factors` lists what to add).",
    }

    @app.get("/payments/{payment_id}", responses=problem_responses(401, 404, descriptions=missing))
    async def get_payment(
        payment_id: Annotated[str, Path(max_length=64)],
        subject: str = Depends(gate.current_subject),
    ) -> Payment:
        return ledger.get(subject, payment_id)

    @app.post(
        "/payments/{payment_id}/execute",
        responses={
            **gate.transaction_responses,
            **problem_responses(404, 409, descriptions=missing),
        },
    )
    async def execute_payment(
        payment_id: Annotated[str, Path(max_length=64)],
        confirmed: VerifiedTransaction = Depends(confirm),  # noqa: B008
    ) -> Payment:
        """Without `OTP-Challenge`/`OTP-Code`: 401 `confirmation_required` on the user's
        preferred factor (the `OTP-Factor` header chooses another of the answer's `factors`):
        an SMS with this payment's details is sent; an authenticator app sends nothing.
        With them: the payment executes, once; sent again, the answer is 409
        `transaction_executed` with this execution's `outcome`."""
        payment = ledger.execute(confirmed.subject, payment_id)
        confirmed.outcome.update(payment=payment.id, status=payment.status)
        return payment

    return app


def server_config(
    app: Any, host: str = "127.0.0.1", port: int = 8000, forwarded_allow_ips: str | None = None
) -> Any:
    """uvicorn's configuration. ``X-Forwarded-For`` is trusted only from the proxies
    ``forwarded_allow_ips`` names; by default from none (uvicorn's own default trusts it from
    127.0.0.1, so anything that connects through loopback could pick the client IP that
    per-IP budgets count)."""
    import uvicorn

    if forwarded_allow_ips:
        return uvicorn.Config(
            app, host=host, port=port, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips
        )
    return uvicorn.Config(app, host=host, port=port, proxy_headers=False)


def serve(
    host: str = "127.0.0.1", port: int = 8000, forwarded_allow_ips: str | None = None
) -> None:
    """Serve the API until interrupted (uvicorn; see :func:`server_config`)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.Server(server_config(create_app(), host, port, forwarded_allow_ips)).run()


def main(argv: list[str] | None = None) -> None:
    """``python examples/fastapi_service/app.py [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(description=str(__doc__).split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="behind a proxy: the proxy addresses whose X-Forwarded-For is trusted "
        "(default: none, the client IP is the connection's)",
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.forwarded_allow_ips)
