"""``SQLAlchemyCredentials``: the core's :class:`~otpgate.Credentials` on a SQL database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Union

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from otpgate.core.credentials import PasskeyCredential, TotpCredential
from otpgate.core.errors import StorageUnavailable

from . import driver_reads
from . import passkey_statements as pq
from . import statements as q
from .devices import DeviceMethods
from .tables import Tables, metadata
from .tables import tables as default_tables

#: An engine, a ``sessionmaker``, or a function returning an engine (``lambda: db.engine``
#: with Flask-SQLAlchemy, whose engine exists only inside an application context).
Bind = Union[Engine, "sessionmaker[Session]", Callable[[], Engine]]


class SQLAlchemyCredentials(DeviceMethods):
    """Verified phones, sealed authenticator secrets and recovery code digests in SQL tables.

    Each method runs in its own transaction, but for the reads every verify makes (an
    app's secret, a user's numbers): those run as one statement on a pooled driver
    connection when nothing watches the engine (:mod:`otpgate.sqlalchemy.driver_reads`).
    Database errors (connection refused, locked database) raise
    :class:`~otpgate.StorageUnavailable`, so a verification fails closed.
    """

    def __init__(
        self,
        bind: Bind,
        *,
        tables: Tables | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bind = bind
        self.tables = tables or default_tables
        self._clock = clock

    @contextmanager
    def _begin(self) -> Iterator[Connection | Session]:
        bind = self._bind
        try:
            if isinstance(bind, sessionmaker):
                with bind.begin() as session:
                    yield session
                return
            engine = bind if isinstance(bind, Engine) else bind()
            with engine.begin() as connection:
                yield connection
        except IntegrityError:
            raise
        except DBAPIError as error:
            raise StorageUnavailable() from error

    def _read(self, query: q.Query) -> list[Any]:
        """The rows of a hot read (``driver_reads``: on the pool's driver connection when
        nothing would miss it, else in a transaction as every other method)."""
        bind = self._bind
        if not isinstance(bind, sessionmaker):
            found = driver_reads.rows(bind if isinstance(bind, Engine) else bind(), *query)
            if found is not None:
                return found
        with self._begin() as db:
            return list(db.execute(*query))

    def _run(self, statement: Any) -> Any:
        with self._begin() as db:
            return db.execute(statement)

    # -- phones ----------------------------------------------------------------------------

    def phones(self, subject: str) -> list[str]:
        """The subject's verified numbers (E.164), the preferred one first."""
        query = q.select_phones(self.tables, q.check_subject(subject))
        return [str(row[0]) for row in self._read(query)]

    def add_phone(self, subject: str, e164: str) -> None:
        """Add a verified number (no-op if present)."""
        t, subject, e164 = self.tables, q.check_subject(subject), q.check_e164(e164)
        try:
            with self._begin() as db:
                if db.execute(q.phone_exists(t, subject, e164)).first() is None:
                    db.execute(q.insert_phone(t, subject, e164, self._clock()))
        except IntegrityError:
            return  # a concurrent request added the same number

    def remove_phone(self, subject: str, e164: str) -> bool:
        result = self._run(q.delete_phone(self.tables, q.check_subject(subject), e164))
        return q.rowcount(result) > 0

    # -- email addresses -------------------------------------------------------------------

    def emails(self, subject: str) -> list[str]:
        """The subject's verified addresses, the preferred one first."""
        query = q.select_emails(self.tables, q.check_subject(subject))
        with self._begin() as db:
            return [str(row[0]) for row in db.execute(query)]

    def add_email(self, subject: str, address: str) -> None:
        """Add a verified address (no-op if present)."""
        t, subject, address = self.tables, q.check_subject(subject), q.check_email(address)
        try:
            with self._begin() as db:
                if db.execute(q.email_exists(t, subject, address)).first() is None:
                    db.execute(q.insert_email(t, subject, address, self._clock()))
        except IntegrityError:
            return  # a concurrent request added the same address

    def remove_email(self, subject: str, address: str) -> bool:
        result = self._run(q.delete_email(self.tables, q.check_subject(subject), address))
        return q.rowcount(result) > 0

    # -- authenticator app -----------------------------------------------------------------

    def get_totp(self, subject: str) -> TotpCredential | None:
        rows = self._read(q.select_totp(self.tables, q.check_subject(subject)))
        return q.totp_from_row(rows[0] if rows else None)

    def set_totp(self, subject: str, credential: TotpCredential) -> None:
        """Store a pending (unconfirmed) or confirmed authenticator secret, replacing any."""
        t, subject = self.tables, q.check_subject(subject)
        for _ in range(3):  # a concurrent insert makes ours fail; the update then succeeds
            try:
                with self._begin() as db:
                    upsert = q.upsert_totp(t, subject, credential, q.dialect_name(db))
                    if upsert is not None:
                        db.execute(upsert)
                    elif q.rowcount(db.execute(q.update_totp(t, subject, credential))) == 0:
                        db.execute(q.insert_totp(t, subject, credential))
                return
            except IntegrityError:
                continue
        raise StorageUnavailable()

    def remove_totp(self, subject: str) -> bool:
        result = self._run(q.delete_totp(self.tables, q.check_subject(subject)))
        return q.rowcount(result) > 0

    # -- recovery codes --------------------------------------------------------------------

    def recovery_codes_left(self, subject: str) -> int:
        query = q.count_recovery(self.tables, q.check_subject(subject))
        with self._begin() as db:
            return int(db.execute(*query).scalar_one())

    def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None:
        """Void every old code of the subject and keep these digests instead."""
        t, subject, values = self.tables, q.check_subject(subject), list(digests)
        with self._begin() as db:
            lock = q.lock_subject(subject, q.dialect_name(db))
            if lock is not None:
                db.execute(lock)
            db.execute(q.delete_recovery(t, subject))
            if values:
                db.execute(q.insert_recovery(t, subject, values, self._clock()))

    def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """True if an unused code matches any of ``digests`` (nothing is changed)."""
        statement = q.unused_recovery_ids(
            self.tables, q.check_subject(subject), q.check_digests(digests)
        )
        with self._begin() as db:
            return db.execute(statement.limit(1)).first() is not None

    def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """Atomically mark one unused code matching ``digests`` as used. True exactly once:
        each row is claimed by a conditional UPDATE whose row count says who won."""
        t = self.tables
        statement = q.unused_recovery_ids(t, q.check_subject(subject), q.check_digests(digests))
        with self._begin() as db:
            for (row_id,) in db.execute(statement).all():
                if q.rowcount(db.execute(q.use_recovery_row(t, row_id, self._clock()))) == 1:
                    return True
        return False

    # -- preferred factor ------------------------------------------------------------------

    def preferred_factor(self, subject: str) -> str | None:
        """The factor name the subject chose to be asked for first, or None."""
        query = q.select_preference(self.tables, q.check_subject(subject))
        with self._begin() as db:
            row = db.execute(*query).first()
        return None if row is None else str(row[0])

    def set_preferred_factor(self, subject: str, name: str | None) -> None:
        """Store the subject's choice (a factor name), or forget it (None)."""
        t, subject = self.tables, q.check_subject(subject)
        if name is None:
            self._run(q.delete_preference(t, subject))
            return
        name = q.check_factor_name(name)
        for _ in range(3):  # a concurrent insert makes ours fail; the update then succeeds
            try:
                with self._begin() as db:
                    now = self._clock()
                    upsert = q.upsert_preference(t, subject, name, now, q.dialect_name(db))
                    if upsert is not None:
                        db.execute(upsert)
                    elif q.rowcount(db.execute(q.update_preference(t, subject, name, now))) == 0:
                        db.execute(q.insert_preference(t, subject, name, now))
                return
            except IntegrityError:
                continue
        raise StorageUnavailable()

    # -- passkeys --------------------------------------------------------------------------

    def passkeys(self, subject: str) -> list[PasskeyCredential]:
        """The subject's passkeys, oldest first."""
        query = pq.select_passkeys(self.tables, q.check_subject(subject))
        with self._begin() as db:
            return [pq.passkey_from_row(row) for row in db.execute(*query)]

    def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool:
        """Keep a new passkey; False if its credential id is known already."""
        t, subject = self.tables, q.check_subject(subject)
        try:
            with self._begin() as db:
                if db.execute(pq.passkey_exists(t, credential.credential_id)).first() is not None:
                    return False
                db.execute(pq.insert_passkey(t, subject, credential))
            return True
        except IntegrityError:
            return False  # a concurrent request registered the same credential

    def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool:
        """Record a use unless the counter went backwards (one conditional UPDATE)."""
        statement = pq.use_passkey(
            self.tables, q.check_subject(subject), credential_id, sign_count, backup_state, at
        )
        return q.rowcount(self._run(statement)) == 1

    def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool:
        statement = pq.rename_passkey(self.tables, q.check_subject(subject), credential_id, name)
        return q.rowcount(self._run(statement)) > 0

    def remove_passkey(self, subject: str, credential_id: str) -> bool:
        statement = pq.delete_passkey(self.tables, q.check_subject(subject), credential_id)
        return q.rowcount(self._run(statement)) > 0


def create_all(bind: Engine, *, tables: Tables | None = None) -> None:
    """Create otpgate's tables (those missing) on ``bind``; use migrations in production."""
    target = tables.phones.metadata if tables else metadata
    for attempt in range(2):
        try:
            with bind.begin() as connection:
                target.create_all(connection, tables=(tables or default_tables).all)
            return
        except DBAPIError:
            # Workers starting at once on a new database: another one created a table between
            # our check and our CREATE. The second pass sees it; a lasting error is raised.
            if attempt:
                raise
