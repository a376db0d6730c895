"""A small bank on Flask + otpgate: sign in with a second factor, confirm each transfer with
a code bound to its amount and payee.

    python examples/flask_app/app.py        # then open http://127.0.0.1:5000

Sign in as ``alice`` / ``demo-password``. SMS codes are printed in the terminal (console
sender; ``DEMO_OTPGATE_SENDER=inbox`` puts them in the dev inbox instead); factors live in
SQLite in the instance folder, challenges in memory (``DEMO_OTPGATE_STORE=redis://...`` for
Redis). Keys: ``$SECRET_KEY`` signs the session cookie, else a random key for this run;
``$OTPGATE_SECRET_KEYS``, else a random key kept in the instance folder (it seals the
authenticator-app secrets stored there). Every page answers ``X-Frame-Options: DENY``; the
session cookie is ``SameSite=Lax``. A demo: never deploy it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, cast

import flask_login  # type: ignore[import-untyped, unused-ignore]
from flask import Flask, flash, get_flashed_messages, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from otpgate import EmailSender, MemoryStore, Sender
from otpgate.core.framing import add_framing_headers
from otpgate.demo.common import (
    FLASK_USERS,
    demo_email_sender,
    demo_key,
    demo_redis_url,
    demo_sender,
    factor_settings,
    redis_prefix,
)
from otpgate.integrations.flask import (
    OtpGate,
    check_csrf,
    confirm_transaction,
    fresh_otp,
    otp_required,
)

DEMO_PASSWORD = FLASK_USERS[0].password
DEMO_USERS = {user.name: user.phone for user in FLASK_USERS}  # bob has no second factor yet
#: The confirmation page names the details (the demo is in English; a site passes its gettext).
DETAIL_LABELS = {
    "reference": "Reference",
    "amount": "Amount",
    "currency": "Currency",
    "payee": "Payee",
}
gate = OtpGate()


F = TypeVar("F")
current_user: Any = flask_login.current_user


def login_required(view: F) -> F:
    """Flask-Login's ``login_required`` (typed)."""
    return cast(F, flask_login.login_required(view))


class Customer:
    """A bank customer, as Flask-Login expects a user to be."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, name: str) -> None:
        self.id = name
        self.name = name

    def get_id(self) -> str:
        return self.id


def default_store() -> Any:
    """``DEMO_OTPGATE_STORE``'s Redis, else an in-memory store (one process)."""
    url = demo_redis_url()
    if url is None:
        return MemoryStore()
    from otpgate.redis import RedisStore

    return RedisStore.from_url(url, prefix=redis_prefix("flask"))


def create_app(
    sender: Sender | None = None,
    instance_path: str | None = None,
    email_sender: EmailSender | None = None,
) -> Flask:
    """The bank. Tests pass an ``OutboxSender`` and a temporary instance folder; the default
    folder is ``$DEMO_INSTANCE_PATH``, else a new temporary one. With an ``email_sender``
    (or ``OTPGATE_EMAIL_SENDER``) customers may add an email address as a second factor."""
    folder = instance_path or os.environ.get("DEMO_INSTANCE_PATH")
    folder = folder or tempfile.mkdtemp(prefix="otpgate-demo-flask-")
    app = Flask(__name__, instance_path=str(Path(folder).resolve()))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=demo_key("SECRET_KEY"),  # a forged session cookie needs this key
        OTPGATE_SECRET_KEYS=demo_key(
            "OTPGATE_SECRET_KEYS", Path(app.instance_path) / "otpgate-secret-key"
        ),
        OTPGATE_BRAND="Demo Bank",
        OTPGATE_LOGIN_VIEW="login",
        **factor_settings(),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    login_manager = flask_login.LoginManager(app)
    login_manager.login_view = "login"
    passwords = {name: generate_password_hash(DEMO_PASSWORD) for name in DEMO_USERS}
    # Unknown names are checked against this, so they take as long as known ones.
    no_such_user = generate_password_hash(secrets.token_urlsafe(16))
    balances = {name: Decimal("1000.00") for name in DEMO_USERS}
    history: list[dict[str, Any]] = []

    def load_user(user_id: str) -> Customer | None:
        return Customer(user_id) if user_id in DEMO_USERS else None

    login_manager.user_loader(load_user)

    gate.init_app(
        app,
        store=default_store(),
        sender=sender or demo_sender(),
        email_sender=email_sender or demo_email_sender(),
        # ?lang=zh or a "lang" cookie picks the language; else Accept-Language decides.
        locale_selector=lambda: request.args.get("lang") or request.cookies.get("lang"),
    )
    with app.app_context():  # first run: give alice her verified phone
        for name, phone in DEMO_USERS.items():
            if phone and not gate.verifier.credentials.phones(name):
                gate.verifier.credentials.add_phone(name, phone)

    def page(template: str, **context: Any) -> str:
        return render_template(
            template,
            otpgate_lang="en",
            otpgate_base="otpgate/base.html",
            messages=get_flashed_messages(),
            **context,
        )

    @app.after_request
    def deny_framing(response: Response) -> Response:
        add_framing_headers(response.headers, gate.verifier.settings)  # the bank's pages too
        return response

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            check_csrf()
            name = request.form.get("username", "")
            stored = passwords.get(name, no_such_user)
            matches = check_password_hash(stored, request.form.get("password", ""))
            if matches and name in passwords:
                return gate.begin_login(Customer(name), next_url=request.args.get("next"))
            error = "Wrong user name or password."
        return page("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    def logout() -> Any:
        check_csrf()
        gate.logout()
        return redirect(url_for("login"))

    @app.get("/")
    @login_required
    @otp_required
    def home() -> Any:
        mine = [t for t in history if t["from"] == current_user.name]
        return page("home.html", balance=balances[current_user.name], history=mine)

    @app.get("/transfer")
    @login_required
    @fresh_otp
    def transfer_form() -> Any:
        # A reference per form: equal details are one transaction (executed once), so the
        # same amount to the same payee again is a new transfer only with a new reference.
        return page("transfer.html", error=None, form={"reference": secrets.token_hex(6)})

    @app.post("/transfer")
    @login_required
    @otp_required  # the code bound to this transfer is its step-up
    def transfer() -> Any:
        check_csrf()
        payee = request.form.get("payee", "").strip()[:40]
        try:
            amount = Decimal(request.form.get("amount", "")).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = Decimal(0)
        if not amount.is_finite():  # NaN: comparing it raises
            amount = Decimal(0)
        if not payee or not 0 < amount <= balances[current_user.name]:
            error = "Enter a payee and an amount you can cover."
            return page("transfer.html", error=error, form=request.form), 400
        reference = request.form.get("reference", "")[:16]
        details = {"reference": reference, "amount": str(amount), "currency": "EUR", "payee": payee}
        confirm_transaction(
            details, summary=f"payment of {amount} EUR to {payee}"[:80], labels=DETAIL_LABELS
        )
        balances[current_user.name] -= amount
        history.append({"from": current_user.name, **details})
        flash(f"Sent {amount} EUR to {payee}.")
        return redirect(url_for("home"), code=303)

    return app


def serve(host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve the bank until interrupted (Werkzeug's development server)."""
    create_app().run(host=host, port=port, threaded=True)
