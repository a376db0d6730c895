"""SQLAlchemyCredentials and AsyncSQLAlchemyCredentials on real databases: a SQLite file and
PostgreSQL (psycopg 3 and asyncpg), see ``conftest.py``.

One behaviour suite runs against both flavours (the async one through an event loop) on both
databases; the races are in ``test_races.py``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy.engine import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.inspection import inspect
from sqlalchemy.orm import sessionmaker
from sqlalchemy.schema import MetaData

from otpgate import (
    AsyncCredentials,
    AsyncVerifier,
    Credentials,
    EmailCredentials,
    OutboxSender,
    StorageUnavailable,
    TotpCredential,
    Verifier,
)
from otpgate.sqlalchemy import (
    AsyncSQLAlchemyCredentials,
    SQLAlchemyCredentials,
    create_all,
    create_all_async,
    define_tables,
)
from tests.conftest import PHONE, Sync
from tests.postgres import free_port

OTHER = "+4915112345678"


@pytest.fixture(params=["engine", "sessionmaker", "callable", "async-engine", "async-sessionmaker"])
def creds(request, database, sync_engine, loop) -> Any:
    kind = request.param
    if kind == "engine":
        yield SQLAlchemyCredentials(sync_engine)
    elif kind == "sessionmaker":
        yield SQLAlchemyCredentials(sessionmaker(sync_engine))
    elif kind == "callable":
        yield SQLAlchemyCredentials(lambda: sync_engine)
    else:
        engine = database.async_engine()
        bind = engine if kind == "async-engine" else async_sessionmaker(engine)
        yield Sync(AsyncSQLAlchemyCredentials(bind), loop)
        loop.run_until_complete(engine.dispose())


def test_protocols_are_met(sync_engine):
    assert isinstance(SQLAlchemyCredentials(sync_engine), Credentials)
    assert isinstance(SQLAlchemyCredentials(sync_engine), EmailCredentials)
    async_engine = create_async_engine("sqlite+aiosqlite://")
    assert isinstance(AsyncSQLAlchemyCredentials(async_engine), AsyncCredentials)


def test_email_addresses_keep_order_ignore_duplicates_and_are_removed(creds):
    assert creds.emails("u1") == []
    creds.add_email("u1", "alice@example.org")
    creds.add_email("u1", "a.martin@example.com")
    creds.add_email("u1", "alice@example.org")
    assert creds.emails("u1") == ["alice@example.org", "a.martin@example.com"]
    assert creds.emails("u2") == []
    assert creds.remove_email("u1", "alice@example.org") is True
    assert creds.remove_email("u1", "alice@example.org") is False
    assert creds.emails("u1") == ["a.martin@example.com"]


def test_phones_keep_order_and_ignore_duplicates(creds):
    assert creds.phones("u1") == []
    creds.add_phone("u1", PHONE)
    creds.add_phone("u1", OTHER)
    creds.add_phone("u1", PHONE)
    assert creds.phones("u1") == [PHONE, OTHER]
    assert creds.phones("u2") == []
    assert creds.remove_phone("u1", PHONE) is True
    assert creds.remove_phone("u1", PHONE) is False
    assert creds.phones("u1") == [OTHER]


def test_totp_is_replaced_and_removed(creds):
    assert creds.get_totp("u1") is None
    creds.set_totp("u1", TotpCredential("sealed-1", False, 1_800_000_000.25))
    creds.set_totp("u1", TotpCredential("sealed-2", True, 1_800_000_001.5))
    credential = creds.get_totp("u1")
    assert credential == TotpCredential("sealed-2", True, 1_800_000_001.5)
    assert creds.get_totp("u2") is None
    assert creds.remove_totp("u1") is True
    assert creds.remove_totp("u1") is False
    assert creds.get_totp("u1") is None


def test_recovery_codes_are_single_use_and_replaced(creds):
    creds.replace_recovery_codes("u1", ["d1", "d2", "d3"])
    creds.replace_recovery_codes("u2", ["d1"])
    assert creds.recovery_codes_left("u1") == 3
    assert creds.has_recovery_code("u1", ["x", "d2"]) is True
    assert creds.recovery_codes_left("u1") == 3  # has_ changes nothing
    assert creds.use_recovery_code("u1", ["x", "d2"]) is True
    assert creds.use_recovery_code("u1", ["d2"]) is False
    assert creds.has_recovery_code("u1", ["d2"]) is False
    assert creds.recovery_codes_left("u1") == 2
    assert creds.recovery_codes_left("u2") == 1  # other subjects untouched
    creds.replace_recovery_codes("u1", ["e1"])
    assert creds.has_recovery_code("u1", ["d1"]) is False
    assert creds.recovery_codes_left("u1") == 1
    creds.replace_recovery_codes("u1", [])
    assert creds.recovery_codes_left("u1") == 0


def test_one_use_marks_one_row_even_if_two_rows_match(creds):
    # Two stored rows matching the presented digests (e.g. one per key during rotation):
    # a use consumes exactly one of them.
    creds.replace_recovery_codes("u1", ["k1-digest", "k2-digest", "other"])
    assert creds.use_recovery_code("u1", ["k1-digest", "k2-digest"]) is True
    assert creds.recovery_codes_left("u1") == 2


def test_bad_input_is_refused_without_touching_the_database(creds):
    from otpgate import MalformedInput

    for subject in ("", "x" * 256, None, 42):
        with pytest.raises(MalformedInput):
            creds.phones(subject)
    with pytest.raises(MalformedInput):
        creds.add_phone("u1", "0612345678")
    with pytest.raises(MalformedInput):
        creds.use_recovery_code("u1", ["d"] * 100)


def test_a_preferred_factor_is_stored_replaced_and_cleared(creds):
    assert creds.preferred_factor("u1") is None
    creds.set_preferred_factor("u1", "sms")
    creds.set_preferred_factor("u2", "totp")
    creds.set_preferred_factor("u1", "totp")
    assert creds.preferred_factor("u1") == "totp"
    creds.set_preferred_factor("u1", None)
    assert creds.preferred_factor("u1") is None
    creds.set_preferred_factor("u1", None)  # clearing twice is fine
    assert creds.preferred_factor("u2") == "totp"  # other subjects untouched


def test_a_bad_preference_is_refused(creds):
    from otpgate import MalformedInput

    for name in ("", "x" * 33, 42):
        with pytest.raises(MalformedInput):
            creds.set_preferred_factor("u1", name)
    with pytest.raises(MalformedInput):
        creds.preferred_factor("")
    assert creds.preferred_factor("u1") is None


def test_create_all_adds_the_preference_table_to_an_existing_database(database):
    engine = database.engine()
    old = define_tables(MetaData())
    with engine.begin() as connection:  # a database made before preferences existed
        old.phones.metadata.create_all(
            connection, tables=[old.phones, old.totp, old.recovery_codes]
        )
    SQLAlchemyCredentials(engine).add_phone("u1", PHONE)
    create_all(engine)
    creds = SQLAlchemyCredentials(engine)
    assert creds.phones("u1") == [PHONE]  # kept
    creds.set_preferred_factor("u1", "sms")
    assert creds.preferred_factor("u1") == "sms"
    engine.dispose()


def test_tables_can_live_in_the_apps_metadata(database):
    mine = MetaData()
    tables = define_tables(mine, prefix="auth_")
    engine = database.engine()
    create_all(engine, tables=tables)
    assert set(inspect(engine).get_table_names()) == {
        "auth_phone",
        "auth_totp",
        "auth_recovery_code",
        "auth_preference",
        "auth_device",
        "auth_email",
        "auth_passkey",
    }
    creds = SQLAlchemyCredentials(engine, tables=tables)
    creds.add_phone("u1", PHONE)
    assert creds.phones("u1") == [PHONE]
    engine.dispose()


def test_a_verifier_runs_on_it(sync_engine, settings):
    outbox = OutboxSender()
    gate = Verifier(settings, sender=outbox, credentials=SQLAlchemyCredentials(sync_engine))
    challenge = gate.start_sms("u1", PHONE, purpose="enroll")
    gate.check(challenge.id, outbox.last_code_for(PHONE), subject="u1")
    codes = gate.recovery.generate("u1")
    assert gate.check_recovery("u1", codes[3]).factor == "recovery"
    factors = gate.factors("u1")
    assert factors.masked_phones == ("+33 ••• ••• 5678",)
    assert factors.recovery_codes_left == 9
    enrollment = gate.totp.enroll("u1")
    row = SQLAlchemyCredentials(sync_engine).get_totp("u1")
    assert enrollment.secret not in row.sealed_secret  # sealed, not in clear


async def test_an_async_verifier_runs_on_it(database, settings):
    engine = database.async_engine()
    await create_all_async(engine)
    gate = AsyncVerifier(settings, credentials=AsyncSQLAlchemyCredentials(engine))
    codes = await gate.recovery.generate("u1")
    assert (await gate.check_recovery("u1", codes[0])).factor == "recovery"
    assert await gate.recovery.remaining("u1") == 9
    await engine.dispose()


def test_database_outage_is_storage_unavailable(database, tmp_path):
    if database.kind == "sqlite":  # a file that cannot be opened
        engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    else:  # a server that is gone: nothing listens on the port
        engine = create_engine(f"postgresql+psycopg://otpgate@127.0.0.1:{free_port()}/gone")
    creds = SQLAlchemyCredentials(engine)
    with pytest.raises(StorageUnavailable):
        creds.phones("u1")
    with pytest.raises(StorageUnavailable):
        creds.use_recovery_code("u1", ["d"])
    engine.dispose()


async def test_async_database_errors_are_storage_unavailable(database):
    # A database without otpgate's tables (an opening failure would leave aiosqlite's
    # worker thread calling into a closed loop after the test).
    engine = database.async_engine()
    with pytest.raises(StorageUnavailable):
        await AsyncSQLAlchemyCredentials(engine).get_totp("u1")
    with pytest.raises(StorageUnavailable):
        await AsyncSQLAlchemyCredentials(engine).use_recovery_code("u1", ["d"])
    await engine.dispose()


def test_importing_without_sqlalchemy_names_the_extra():
    probe = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "try:\n    import otpgate.sqlalchemy\nexcept ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert 'pip install "otpgate[sqlalchemy]"' in result.stdout


def _prefer_sms(gate, subject, outbox):
    """SMS chosen over an authenticator app, the factor a step opens on otherwise."""
    import pyotp

    challenge = gate.start(subject, "sms", purpose="enroll", destination=PHONE)
    code = outbox.last_code_for(PHONE)
    gate.verify(subject, "sms", code, purpose="enroll", challenge_id=challenge.id)
    shown = gate.setup(subject, "totp", label="u1@example.com").secrets()
    gate.verify(subject, "totp", pyotp.TOTP(shown["secret"]).now(), purpose="enroll")
    assert gate.preferred_factor(subject) == "totp"
    gate.set_preferred_factor(subject, "sms")
    assert gate.preferred_factor(subject) == "sms"
    assert [option.name for option in gate.offer(subject, "login")] == ["sms", "totp"]


def test_a_verifier_keeps_the_preferred_factor_in_it(sync_engine, settings):
    outbox = OutboxSender()
    gate = Verifier(settings, sender=outbox, credentials=SQLAlchemyCredentials(sync_engine))
    _prefer_sms(gate, "u1", outbox)
    assert SQLAlchemyCredentials(sync_engine).preferred_factor("u1") == "sms"


def test_an_async_verifier_keeps_the_preferred_factor_in_it(database, sync_engine, settings, loop):
    outbox = OutboxSender()
    engine = database.async_engine()
    credentials = AsyncSQLAlchemyCredentials(engine)
    gate = AsyncVerifier(settings, sender=outbox, credentials=credentials)
    try:
        _prefer_sms(Sync(gate, loop), "u1", outbox)
    finally:
        loop.run_until_complete(engine.dispose())
    assert SQLAlchemyCredentials(sync_engine).preferred_factor("u1") == "sms"


def test_the_reads_are_built_once_and_bound_per_call(sync_engine):
    """Issue 17: a sign-in step reads phones, app and recovery codes; each read reuses one
    statement (the subject a bound parameter), so SQLAlchemy neither rebuilds it nor
    computes its cache key anew on each call, and two subjects never share a result."""
    from otpgate.sqlalchemy import statements, tables

    for read in (
        statements.select_phones,
        statements.select_totp,
        statements.count_recovery,
        statements.select_preference,
    ):
        first, bound = read(tables, "u1")
        again, other = read(tables, "u2")
        assert first is again, read.__name__
        assert bound == {"subject": "u1"} and other == {"subject": "u2"}
    credentials = SQLAlchemyCredentials(sync_engine)
    credentials.add_phone("u1", PHONE)
    assert credentials.phones("u1") == [PHONE] and credentials.phones("u2") == []
