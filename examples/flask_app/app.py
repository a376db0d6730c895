"""A small bank on Flask + otpgate: sign in with a second factor, confirm each transfer with
a code bound to its amount and payee.

    python examples/flask_app/app.py        # then open http://127.0.0.1:5000

The bank's code is ``src/otpgate/demo/flask_bank/`` (shipped in the package, so that
``otpgate demo`` runs it from any install); this file runs it. Sign in as ``alice`` /
``demo-password``. SMS codes are printed in this terminal (console sender); factors live in
SQLite (``instance/otpgate.sqlite3`` beside this file, sealed with the random key made in
``instance/otpgate-secret-key`` unless ``OTPGATE_SECRET_KEYS`` is set), challenges in memory;
the session key is ``$SECRET_KEY``, else new for each run.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from otpgate import EmailSender, Sender
from otpgate.demo import flask_bank
from otpgate.demo.flask_bank import DEMO_PASSWORD, DEMO_USERS, Customer, gate

HERE = Path(__file__).resolve().parent

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "Customer", "create_app", "gate"]


def create_app(
    sender: Sender | None = None,
    instance_path: str | None = None,
    email_sender: EmailSender | None = None,
) -> Flask:
    """The bank, with its factors in ``instance/`` beside this file unless told otherwise;
    ``email_sender`` (or ``OTPGATE_EMAIL_SENDER``) lets customers add an email address."""
    return flask_bank.create_app(sender, instance_path or str(HERE / "instance"), email_sender)


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
