"""Issue 17: what otpgate costs an ordinary page, counted in SQL statements (no timing).

The guard's answer for a signed-in user with no factor comes from the session
(``known_factors.py``) and is looked up again when factors change; a session that passed
needs no lookup at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_login import login_user

from otpgate import MemoryStore
from otpgate.integrations.flask import OtpGate
from otpgate.integrations.flask.extension import gate_state
from otpgate.sqlalchemy import SQLAlchemyCredentials, create_all
from sqlalchemy import create_engine, event
from tests.conftest import KEY, PHONE
from tests.integrations.flask.conftest import (
    CSRF,
    Harness,
    User,
    make_app,
    password_login,
    sms_login,
)


class Counted:
    """A SQLite engine that counts the statements run on it."""

    def __init__(self, path: Any) -> None:
        self.engine = create_engine(f"sqlite:///{path}")
        create_all(self.engine)
        self.statements = 0
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.statements += 1

    def during(self, call: Any) -> tuple[Any, int]:
        before = self.statements
        result = call()
        return result, self.statements - before


@pytest.fixture
def db(tmp_path) -> Any:
    counted = Counted(tmp_path / "otpgate.sqlite3")
    yield counted
    counted.engine.dispose()


def app_on(db: Counted, clock, outbox, **config: Any) -> Harness:
    harness = make_app(clock, outbox, credentials=SQLAlchemyCredentials(db.engine), **config)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    return harness


def legacy_login(harness: Harness) -> None:
    """A sign-in by password alone that bypasses otpgate (``login_user``, remember-me)."""

    @harness.app.get("/legacy-login/<name>")
    def legacy(name: str) -> str:
        login_user(User(name))
        return "signed in the old way"


def test_a_page_for_a_user_without_factor_queries_nothing(db, clock, outbox):
    harness = app_on(db, clock, outbox)
    client = harness.client()
    password_login(client, "bob")  # no factor: signed in at once (one lookup, at sign-in)
    for _ in range(3):
        response, statements = db.during(lambda: client.get("/dashboard"))
        assert response.status_code == 200 and "dashboard" in response.text
        assert statements == 0


def test_a_session_signed_in_elsewhere_is_looked_up_once_then_remembered(db, clock, outbox):
    harness = app_on(db, clock, outbox)
    legacy_login(harness)
    client = harness.client()
    client.get("/legacy-login/bob")
    response, statements = db.during(lambda: client.get("/dashboard"))
    assert response.status_code == 200 and statements > 0  # the first page looks up
    clock.advance(1)
    response, statements = db.during(lambda: client.get("/dashboard"))
    assert response.status_code == 200 and statements == 0


def test_a_page_after_the_second_factor_queries_nothing(db, clock, outbox):
    harness = app_on(db, clock, outbox)
    client = harness.client()
    sms_login(harness, client)
    for path in ("/dashboard", "/account"):
        response, statements = db.during(lambda path=path: client.get(path))
        assert response.status_code == 200 and statements == 0, path


def test_a_factor_added_through_otpgate_counts_on_the_next_page(db, clock, outbox):
    """bob adds a phone in another session (the enrollment API): bob's password-only
    session, remembered as "no factor", goes to the second step on its next page."""
    harness = app_on(db, clock, outbox)
    client = harness.client()
    password_login(client, "bob")
    assert client.get("/dashboard").status_code == 200
    clock.advance(1)
    harness.verifier.credentials.add_phone("bob", "+33612345670")  # not through the verifier
    assert client.get("/dashboard").status_code == 200  # unseen yet: within the interval
    harness.verifier.totp.enroll("bob")  # a pending set-up is no factor
    clock.advance(1)
    setup = harness.verifier.recovery.generate("bob")  # through the verifier: an event
    assert setup
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/otp/verify"


def test_a_factor_added_elsewhere_counts_after_the_recheck_interval(db, clock, outbox):
    """A change that bypasses this process's verifier (another host, an admin, SQL) is
    picked up once the remembered answer is OTPGATE_FACTOR_RECHECK seconds old."""
    harness = app_on(db, clock, outbox, OTPGATE_FACTOR_RECHECK=30)
    client = harness.client()
    password_login(client, "bob")
    SQLAlchemyCredentials(db.engine).add_phone("bob", "+33612345670")
    clock.advance(29)
    assert client.get("/dashboard").status_code == 200
    clock.advance(1)
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/otp/verify"


def test_recheck_zero_looks_up_on_every_page(db, clock, outbox):
    harness = app_on(db, clock, outbox, OTPGATE_FACTOR_RECHECK=0)
    client = harness.client()
    password_login(client, "bob")
    response, statements = db.during(lambda: client.get("/dashboard"))
    assert response.status_code == 200 and statements > 0
    SQLAlchemyCredentials(db.engine).add_phone("bob", "+33612345670")
    assert client.get("/dashboard").status_code == 303


def test_the_remembered_answer_is_for_one_subject_only(db, clock, outbox):
    """bob's "no factor" never lets alice (who has one) through in the same session."""
    harness = app_on(db, clock, outbox)
    legacy_login(harness)
    client = harness.client()
    client.get("/legacy-login/bob")
    assert client.get("/dashboard").status_code == 200
    client.get("/legacy-login/alice")
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/otp/verify"


def test_a_guarded_view_always_looks_up(db, clock, outbox):
    """@otp_required does not trust the remembered answer: a factor added elsewhere sends
    the session to the second step there at once, not to the set-up."""
    harness = app_on(db, clock, outbox, OTPGATE_ENFORCE=False)
    client = harness.client()
    password_login(client, "bob")
    SQLAlchemyCredentials(db.engine).add_phone("bob", "+33612345670")
    response = client.get("/account", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json["code"] == "otp_required"


@pytest.mark.parametrize("value", [-1, "60", True, None])
def test_recheck_must_be_seconds(clock, outbox, value):
    from otpgate.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="OTPGATE_FACTOR_RECHECK"):
        make_app(clock, outbox, OTPGATE_FACTOR_RECHECK=value)


def test_the_default_database_keeps_its_connections(tmp_path):
    """The default SQLite credentials reuse pooled connections: no new connection (a file
    open) per lookup."""
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY, TESTING=True)
    OtpGate(app, users=object())
    verifier = gate_state(app).verifier
    engine = verifier.credentials._bind
    opened: list[object] = []
    event.listen(engine, "connect", lambda *args: opened.append(args))
    for _ in range(5):
        verifier.factors("alice")
    assert len(opened) <= 1


class CountingStore(MemoryStore):
    """The in-memory store, counting every call made to it (a round trip on Redis)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        found = super().__getattribute__(name)
        if callable(found) and not name.startswith("_"):
            super().__getattribute__("calls").append(name)
        return found


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_an_ordinary_page_asks_the_store_nothing(db, clock, outbox, user):
    """A page of a session that passed (alice), or of a user remembered as having no
    factor (bob): no store call and no SQL statement, whatever the guard decides."""
    store = CountingStore(clock=clock)
    harness = make_app(clock, outbox, credentials=SQLAlchemyCredentials(db.engine), store=store)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.client()
    if user == "alice":
        sms_login(harness, client)
        assert store.calls  # the SMS sign-in used the store: the counter counts
    else:
        password_login(client, "bob")
    client.get("/dashboard")
    clock.advance(1)
    store.calls.clear()
    for path in ("/dashboard", "/"):
        response, statements = db.during(lambda path=path: client.get(path))
        assert response.status_code == 200 and statements == 0, path
    assert store.calls == []


def test_a_forked_worker_opens_its_own_connections(tmp_path):
    """A worker forked after the app was built (gunicorn --preload) never uses the parent's
    pooled SQLite connection: it opens its own, and its lookups work."""
    import os

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY, TESTING=True)
    OtpGate(app, users=object())
    verifier = gate_state(app).verifier
    verifier.credentials.add_phone("alice", PHONE)
    parent = {id(c) for c in verifier.credentials._bind.pool._pool.queue}
    assert parent  # the parent keeps an open connection in its pool
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: report and leave at once
        try:
            engine = verifier.credentials._bind
            opened: list[object] = []
            event.listen(engine, "connect", lambda *args: opened.append(args[0]))
            ok = bool(verifier.factors("alice").masked_phones) and len(opened) == 1
            os.write(writer, b"ok" if ok else b"shared")
        finally:
            os._exit(0)
    os.close(writer)
    answer = os.read(reader, 16)
    os.waitpid(child, 0)
    os.close(reader)
    assert answer == b"ok"
    assert {id(c) for c in verifier.credentials._bind.pool._pool.queue} == parent


def _statements_of(db: Counted, call: Any) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(" WHERE ")[0])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        return call(), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_right_sms_code_reads_the_numbers_in_one_statement(db, clock, outbox):
    harness = app_on(db, clock, outbox)
    client = harness.client()
    password_login(client, "alice")
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    data = {"csrf_token": CSRF, "method": "sms", "code": harness.last_code(PHONE)}
    response, statements = _statements_of(db, lambda: client.post("/otp/verify", data=data))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert len(statements) == 1 and "otpgate_phone" in statements[0], statements


def test_a_right_app_code_reads_the_app_in_one_statement(db, clock, outbox):
    import pyotp

    harness = app_on(db, clock, outbox)
    with harness.app.app_context():
        totp = pyotp.TOTP(harness.verifier.totp.enroll("alice").secret)
        harness.verifier.totp.confirm("alice", totp.at(clock()))
    clock.advance(60)
    client = harness.client()
    password_login(client, "alice")
    data = {"csrf_token": CSRF, "factor": "totp", "code": totp.at(clock())}
    response, statements = _statements_of(db, lambda: client.post("/otp/verify", data=data))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert len(statements) == 1 and "otpgate_totp" in statements[0], statements
    assert client.get("/account").status_code == 200


def _saves_session(response: Any) -> bool:
    return any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_an_ordinary_page_leaves_the_session_unsaved(db, clock, outbox, user):
    """The guard only reads the session: a page of a session that passed (alice), or of a
    user remembered as having no factor (bob), sends no new session cookie (Flask would
    otherwise serialize and sign it again on every response)."""
    harness = app_on(db, clock, outbox)
    client = harness.client()
    if user == "alice":
        sms_login(harness, client)
    else:
        password_login(client, "bob")
    client.get("/dashboard")  # Flask-Login's first page may note its session identifier
    clock.advance(1)
    for path in ("/dashboard", "/", "/account" if user == "alice" else "/dashboard"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not _saves_session(response), path
