"""otpgate for FastAPI: an async second factor and verified transactions for API services.

::

    gate = OtpGate(settings, redis_url="redis://localhost:6379/0", current_subject=user_id)
    app = FastAPI(lifespan=gate.lifespan)
    gate.install(app)                     # the router under /otpgate + problem+json errors

    confirm = gate.require_transaction(payment_details, summary=payment_summary)

    @app.post("/payments/{payment_id}/execute", responses=gate.transaction_responses)
    async def execute(tx: VerifiedTransaction = Depends(confirm)): ...

    @app.delete("/account", responses=gate.step_up_responses)
    @gate.otp_required(max_age=300)       # step-up, UNDER the route decorator (no dependency)
    async def close(user: str = Depends(user_id)): ...

Needs FastAPI (``pip install "otpgate[fastapi]"``).
"""

from __future__ import annotations

try:
    import fastapi as _fastapi  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'otpgate.integrations.fastapi needs FastAPI: pip install "otpgate[fastapi]"'
    ) from error

from otpgate.core.errors import LoginRequired

from .dependencies import CHALLENGE_HEADER, CODE_HEADER, VerifiedTransaction
from .gate import DEFAULT_DATABASE_URL, OtpGate
from .ledger import Ledger, MemoryLedger, RedisLedger, StoreLedger
from .models import (
    ChallengeOut,
    CheckCode,
    CheckRecoveryCode,
    EnrollTotp,
    FactorsOut,
    Problem,
    RecoveryCodesOut,
    StartChallenge,
    TotpEnrollmentOut,
    VerificationOut,
)
from .problems import (
    EXCEPTION_HANDLERS,
    ProblemRoute,
    TransactionChallenged,
    problem_response,
    problem_responses,
    validation_problem,
)

__all__ = [
    "CHALLENGE_HEADER",
    "CODE_HEADER",
    "DEFAULT_DATABASE_URL",
    "EXCEPTION_HANDLERS",
    "ChallengeOut",
    "CheckCode",
    "CheckRecoveryCode",
    "EnrollTotp",
    "FactorsOut",
    "Ledger",
    "LoginRequired",
    "MemoryLedger",
    "OtpGate",
    "Problem",
    "ProblemRoute",
    "RecoveryCodesOut",
    "RedisLedger",
    "StartChallenge",
    "StoreLedger",
    "TotpEnrollmentOut",
    "TransactionChallenged",
    "VerificationOut",
    "VerifiedTransaction",
    "problem_response",
    "problem_responses",
    "validation_problem",
]
