"""``otpgate demo``: the core's user stories in a terminal, on embedded defaults.

Everything runs in this process: ``MemoryStore``, ``MemoryCredentials`` and a sender that
prints each SMS here instead of sending it. ``--auto`` answers every prompt itself.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

import pyotp
import segno

from otpgate.core import (
    ConsoleSender,
    OtpgateError,
    OutboxSender,
    Settings,
    Verification,
    Verifier,
    generate_secret_key,
    parse_phone,
)

DEMO_PHONE = "+33 6 12 34 56 78"
DEMO_SUBJECT = "demo-user"


class _PrintingOutbox(OutboxSender):
    """Prints each SMS (number masked) and keeps it, so ``--auto`` can read the code."""

    def __init__(self) -> None:
        super().__init__()
        self._console = ConsoleSender()

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        self._console.send(to, text)
        return super().send(to, text, reference=reference)


class Demo:
    def __init__(self, *, auto: bool, ask: Callable[[str], str] = input) -> None:
        self.auto = auto
        self._ask = ask
        self.outbox = _PrintingOutbox()
        self.settings = Settings(secret_keys=(generate_secret_key(),), brand="otpgate demo")
        self.gate = Verifier(self.settings, sender=self.outbox)
        self.phone = ""

    def prompt(self, question: str, automatic: str) -> str:
        if self.auto:
            print(f"{question} {automatic}")
            return automatic
        return self._ask(f"{question} ").strip() or automatic

    def title(self, text: str) -> None:
        print(f"\n=== {text} ===")

    def until_accepted(
        self, check: Callable[[str], Verification], question: str, automatic: Callable[[], str]
    ) -> Verification:
        """Ask for a code until it is accepted or the error says to stop."""
        while True:
            code = self.prompt(question, automatic())
            try:
                verification = check(code)
            except OtpgateError as error:
                print(f"  ✗ {error.message} [{error.code}]")
                if error.code not in {"invalid_code", "malformed_input", "context_mismatch"}:
                    raise
                continue
            print(f"  ✓ verified by {verification.factor} for {verification.purpose}")
            return verification

    def sms_code(self) -> str:
        return self.outbox.last_code_for(self.phone) or ""

    def run(self) -> None:
        gate = self.gate
        print("otpgate demo: the second factor in a terminal. Each SMS is printed here.")
        self.title("1. Verify a phone number")
        typed = self.prompt(f"Your mobile number [{DEMO_PHONE}]:", DEMO_PHONE)
        self.phone = parse_phone(typed, self.settings).e164
        challenge = gate.start_sms(DEMO_SUBJECT, self.phone, purpose="enroll")
        self.until_accepted(
            lambda c: gate.check(challenge.id, c, subject=DEMO_SUBJECT),
            "Code from the SMS:",
            self.sms_code,
        )

        self.title("2. Sign in: a code goes to the verified number")
        challenge = gate.start_sms(DEMO_SUBJECT)
        self.until_accepted(
            lambda c: gate.check(challenge.id, c, subject=DEMO_SUBJECT),
            "Code from the SMS:",
            self.sms_code,
        )

        self.title("3. Confirm a transfer: the code is bound to its amount and payee")
        transfer = {"amount": "250.00", "currency": "EUR", "payee": "Bob"}
        challenge = gate.start_sms(
            DEMO_SUBJECT,
            purpose="transaction",
            context=transfer,
            summary="payment of 250.00 EUR to Bob",
        )
        self.until_accepted(
            lambda c: gate.check(challenge.id, c, context=transfer, subject=DEMO_SUBJECT),
            "Code from the SMS:",
            self.sms_code,
        )

        self.title("4. Add an authenticator app")
        enrollment = gate.totp.enroll(DEMO_SUBJECT, "demo@example.com")
        qr = io.StringIO()
        segno.make(enrollment.uri, error="m").terminal(out=qr, compact=True)
        print(qr.getvalue() + f"Scan it, or type this key: {enrollment.secret}")
        totp = pyotp.TOTP(enrollment.secret)
        self.until_accepted(
            lambda c: gate.totp.confirm(DEMO_SUBJECT, c), "Code from the app:", totp.now
        )

        self.title("5. Recovery codes: shown once, each works once")
        codes = gate.recovery.generate(DEMO_SUBJECT)
        print("  " + "  ".join(codes))
        self.until_accepted(
            lambda c: gate.check_recovery(DEMO_SUBJECT, c), "Type one of them:", lambda: codes[0]
        )
        print("\nDone. Next: the framework quick starts in the README.")


def run_demo(*, auto: bool) -> int:
    try:
        Demo(auto=auto or not sys.stdin.isatty()).run()
    except (KeyboardInterrupt, EOFError):
        print("\nStopped.")
        return 130
    except OtpgateError as error:
        print(f"\notpgate said: {error.message} [{error.code}]")
        return 1
    return 0
