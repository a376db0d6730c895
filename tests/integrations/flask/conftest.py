"""A small Flask app with Flask-Login, otpgate, and views guarded each way.

Users: alice (verified phone), bob (no factor yet), carol (phone + authenticator app).
Everything runs on a fake clock, an outbox sender and in-memory store and credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, jsonify, redirect, request, url_for
from flask_login import LoginManager, UserMixin, login_required

from otpgate import MemoryCredentials, MemoryStore, OutboxSender
from otpgate.integrations.flask import (
    OtpGate,
    check_csrf,
    confirm_transaction,
    fresh_otp,
    otp_required,
    record_outcome,
    transaction_state,
)
from tests.browser import page  # noqa: F401  (its browser: test_browser.py, module-scoped)
from tests.conftest import KEY, OTHER_PHONE, PHONE, FakeClock

PASSWORD = "correct horse"
CSRF = "test-csrf-token"


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


@dataclass
class Harness:
    app: Flask
    gate: OtpGate
    outbox: OutboxSender
    clock: FakeClock
    credentials: Any
    executed: list[dict[str, Any]] = field(default_factory=list)
    #: How many more times /flaky-transfer fails (the bank is down).
    fail_next: int = 0
    #: The forms /note executed, in order (their fields, the CSRF token left out).
    notes: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def verifier(self) -> Any:
        with self.app.app_context():
            return self.gate.verifier

    def client(self) -> Any:
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["_otpgate_csrf"] = CSRF
        return client

    def last_code(self, phone: str = PHONE) -> str:
        code = self.outbox.last_code_for(phone)
        assert code is not None
        return code


def make_app(
    clock: FakeClock,
    outbox: OutboxSender,
    *,
    credentials: Any = None,
    store: Any = None,
    **config: Any,
) -> Harness:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="flask-secret", OTPGATE_SECRET_KEYS=KEY, TESTING=True, **config)
    login_manager = LoginManager(app)
    login_manager.login_view = "login"
    users = {"alice", "bob", "carol"}

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.is_json or request.accept_mimetypes.best == "application/json":
            return jsonify(code="login_required"), 401
        return redirect(url_for("login", next=request.full_path.rstrip("?")))

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id in users else None

    credentials = credentials if credentials is not None else MemoryCredentials()
    gate = OtpGate()
    gate.init_app(
        app,
        store=store if store is not None else MemoryStore(),
        sender=outbox,
        credentials=credentials,
        clock=clock,
    )
    harness = Harness(app, gate, outbox, clock, credentials)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return "<form>login page</form>"
        name = request.form.get("username") or (request.get_json(silent=True) or {}).get("username")
        password = request.form.get("password") or (request.get_json(silent=True) or {}).get(
            "password"
        )
        if name not in users or password != PASSWORD:
            return "bad password", 401
        return gate.begin_login(
            User(name),
            remember=bool(request.form.get("remember")),
            next_url=request.args.get("next"),
        )

    @app.post("/logout")
    def logout() -> Any:
        gate.logout()
        return "bye"

    @app.get("/")
    def home() -> Any:
        return "public home"

    @app.get("/dashboard")
    @login_required
    def dashboard() -> Any:
        return "dashboard for signed-in users"

    @app.get("/account")
    @login_required
    @otp_required
    def account() -> Any:
        return "account (second factor passed)"

    @app.route("/settings", methods=["GET", "POST"])
    @login_required
    @fresh_otp(max_age=300)
    def settings_page() -> Any:
        return "sensitive settings"

    @app.route("/note", methods=["GET", "POST"])
    @login_required
    @fresh_otp
    def note() -> Any:
        if request.method != "POST":
            return "note form"
        check_csrf()
        fields = request.form.items(multi=True)
        harness.notes.append([(k, v) for k, v in fields if k != "csrf_token"])
        return f"noted {request.form.get('text', '')}"

    @app.get("/async-settings")
    @fresh_otp
    async def async_settings() -> Any:
        return "async sensitive settings"

    @app.get("/async-account")
    @otp_required
    async def async_account() -> Any:
        return jsonify(ok=True)

    def execute(what: str, action: str | None = None) -> Any:
        data = request.get_json(silent=True) if request.is_json else request.form
        if not isinstance(data, dict) and not hasattr(data, "get"):
            return "bad", 400
        details = {"amount": str(data.get("amount", "")), "payee": str(data.get("payee", ""))}
        summary = f"Pay {details['amount']} EUR to {details['payee']}"
        confirm_transaction(details, summary=summary[:80], action=action)
        harness.executed.append(details if what == "transfer" else {**details, "what": what})
        return jsonify(status="executed", **details)

    @app.post("/transfer")
    @login_required
    def transfer() -> Any:
        return execute("transfer")

    @app.post("/standing-order")
    @login_required
    def standing_order() -> Any:
        """The same details as a transfer, another action: a transfer's code must fail."""
        return execute("standing order")

    @app.route("/payment", methods=["POST", "DELETE"])
    @login_required
    def payment() -> Any:
        """One view, two operations on the same details: pay (POST), cancel (DELETE)."""
        return execute("transfer" if request.method == "POST" else "cancel")

    @app.post("/flaky-transfer")
    @login_required
    def flaky_transfer() -> Any:
        """A transfer whose execution fails while ``harness.fail_next`` counts down."""
        details = {"amount": request.form.get("amount", ""), "payee": request.form.get("payee", "")}
        confirm_transaction(details)
        if harness.fail_next > 0:
            harness.fail_next -= 1
            raise RuntimeError("the bank is down")
        harness.executed.append(details)
        record_outcome(payee=details["payee"])
        return jsonify(status="executed", **details)

    @app.post("/transfer-state")
    @login_required
    def transfer_state() -> Any:
        details = {"amount": request.form.get("amount", ""), "payee": request.form.get("payee", "")}
        status = transaction_state(details, action="flaky_transfer")
        return jsonify(state=status.state, outcome=status.outcome)

    @app.route("/any-method-transfer", methods=["GET", "POST", "OPTIONS", "TRACE"])
    @login_required
    def any_method_transfer() -> Any:
        """Confirms on any method (as the old quick start did): only POST may send a code."""
        return execute("transfer")

    @app.post("/transfer-alias")
    @login_required
    def transfer_alias() -> Any:
        """Another URL for the transfer, naming the action the transfer's view has."""
        return execute("transfer", action="transfer")

    return harness


@pytest.fixture
def harness(clock, outbox) -> Harness:
    h = make_app(clock, outbox)
    with h.app.app_context():
        h.gate.verifier.credentials.add_phone("alice", PHONE)
        h.gate.verifier.credentials.add_phone("carol", OTHER_PHONE)
    return h


def csrf_field(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def password_login(client: Any, user: str = "alice", **kwargs: Any) -> Any:
    return client.post("/login", data={"username": user, "password": PASSWORD}, **kwargs)


def sms_login(harness: Harness, client: Any, user: str = "alice", phone: str = PHONE) -> Any:
    """Password, then the SMS second step; returns the final response."""
    password_login(client, user)
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    response = client.post(
        "/otp/verify",
        data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code(phone)},
    )
    with client.session_transaction() as session:  # signing in replaced the CSRF token
        session["_otpgate_csrf"] = CSRF
    return response


def recovery_form(client: Any) -> dict[str, str]:
    """The "make new recovery codes" form as the management page renders it (its one-time
    token, core.form_once)."""
    token = re.search(r'name="once" value="([^"]+)"', client.get("/otp/").text)
    assert token, "no recovery form on the management page"
    return {"csrf_token": CSRF, "once": token[1]}
