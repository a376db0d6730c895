"""A payments API: a payment executes only once its owner confirms it with an SMS code bound
to its amount, currency and payee.

    pip install -e ".[fastapi]" uvicorn
    python examples/fastapi_service/app.py        # http://127.0.0.1:8000/docs

The app's code is ``src/otpgate/demo/payments.py`` (shipped in the package, so that
``otpgate demo`` runs it from any install); this file runs it. Demo bearer tokens:
``alice-token`` (alice, +33 6 12 34 56 78) and ``bob-token`` (bob, +49 151 12345678). The SMS
is printed in this terminal. Set ``OTPGATE_SECRET_KEYS``, ``OTPGATE_STORE`` and
``OTPGATE_DATABASE_URL`` to run it like production.

    curl -s -X POST localhost:8000/payments -H 'Authorization: Bearer alice-token' \\
         -H 'Content-Type: application/json' \\
         -d '{"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}'
    curl -si -X POST localhost:8000/payments/<id>/execute -H 'Authorization: Bearer alice-token'
    # 401 confirmation_required, with the OTP-Challenge header; the code is printed here. Then:
    curl -si -X POST localhost:8000/payments/<id>/execute -H 'Authorization: Bearer alice-token' \\
         -H 'OTP-Challenge: <challenge id>' -H 'OTP-Code: <code>'
"""

from __future__ import annotations

from otpgate.demo.payments import (
    DEMO_PHONES,
    DEMO_TOKENS,
    Ledger,
    NewPayment,
    Payment,
    create_app,
    current_subject,
    default_gate,
    main,
)

__all__ = [
    "DEMO_PHONES",
    "DEMO_TOKENS",
    "Ledger",
    "NewPayment",
    "Payment",
    "create_app",
    "current_subject",
    "default_gate",
    "main",
]

if __name__ == "__main__":
    main()
