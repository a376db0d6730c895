"""Every SQL statement of the credential repository, built once for both flavours.

``SQLAlchemyCredentials`` and ``AsyncSQLAlchemyCredentials`` execute these same statements and
read their results with these same helpers; the two classes differ only in ``await``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.sql import (
    Delete,
    Insert,
    Select,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.schema import Table

from otpgate.core.credentials import TotpCredential
from otpgate.core.errors import MalformedInput

from .tables import (
    DIGEST_LENGTH,
    E164_LENGTH,
    EMAIL_LENGTH,
    FACTOR_NAME_LENGTH,
    SUBJECT_LENGTH,
    Tables,
)

#: Recovery code digests one call may name (one per configured key).
MAX_DIGESTS = 16
#: The first key of otpgate's PostgreSQL advisory locks (``b"otpg"`` as a big-endian int4).
LOCK_SPACE = int.from_bytes(b"otpg", "big")

#: A read: a statement built once per set of tables (``subject`` a bound parameter, so
#: SQLAlchemy neither rebuilds it nor computes its cache key again on each call), and the
#: parameters of this call: ``db.execute(*query)``. The reads run on every sign-in step.
Query = tuple[Select[Any], dict[str, Any]]
_SUBJECT: BindParameter[Any] = bindparam("subject")


def check_subject(subject: object) -> str:
    if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_LENGTH:
        raise MalformedInput("The subject must be a non-empty string of at most 255 chars.")
    return subject


def check_e164(e164: object) -> str:
    if not isinstance(e164, str) or not e164.startswith("+") or len(e164) > E164_LENGTH:
        raise MalformedInput("The phone number must be in E.164 form.")
    return e164


def check_digests(digests: Sequence[str]) -> list[str]:
    values = list(digests)
    if len(values) > MAX_DIGESTS or any(
        not isinstance(d, str) or not d or len(d) > DIGEST_LENGTH for d in values
    ):
        raise MalformedInput("Recovery code digests are malformed.")
    return values


# -- phones ----------------------------------------------------------------------------------


def select_phones(t: Tables, subject: str) -> Query:
    """The subject's numbers, oldest (the preferred one) first."""
    return _select_phones(t), {"subject": subject}


@lru_cache(maxsize=64)
def _select_phones(t: Tables) -> Select[Any]:
    return select(t.phones.c.e164).where(t.phones.c.subject == _SUBJECT).order_by(t.phones.c.id)


def phone_exists(t: Tables, subject: str, e164: str) -> Select[Any]:
    return select(t.phones.c.id).where(t.phones.c.subject == subject, t.phones.c.e164 == e164)


def insert_phone(t: Tables, subject: str, e164: str, now: float) -> Insert:
    return insert(t.phones).values(subject=subject, e164=e164, created_at=now)


def delete_phone(t: Tables, subject: str, e164: str) -> Delete:
    return delete(t.phones).where(t.phones.c.subject == subject, t.phones.c.e164 == e164)


# -- email addresses -------------------------------------------------------------------------


def check_email(address: object) -> str:
    if not isinstance(address, str) or "@" not in address or len(address) > EMAIL_LENGTH:
        raise MalformedInput("The email address is malformed.")
    return address


def select_emails(t: Tables, subject: str) -> Select[Any]:
    """The subject's addresses, oldest (the preferred one) first."""
    c = t.emails.c
    return select(c.address).where(c.subject == subject).order_by(c.id)


def email_exists(t: Tables, subject: str, address: str) -> Select[Any]:
    return select(t.emails.c.id).where(t.emails.c.subject == subject, t.emails.c.address == address)


def insert_email(t: Tables, subject: str, address: str, now: float) -> Insert:
    return insert(t.emails).values(subject=subject, address=address, created_at=now)


def delete_email(t: Tables, subject: str, address: str) -> Delete:
    return delete(t.emails).where(t.emails.c.subject == subject, t.emails.c.address == address)


# -- authenticator app -----------------------------------------------------------------------


def select_totp(t: Tables, subject: str) -> Query:
    return _select_totp(t), {"subject": subject}


@lru_cache(maxsize=64)
def _select_totp(t: Tables) -> Select[Any]:
    c = t.totp.c
    return select(c.sealed_secret, c.confirmed, c.created_at).where(c.subject == _SUBJECT)


def totp_from_row(row: Any) -> TotpCredential | None:
    if row is None:
        return None
    return TotpCredential(str(row[0]), bool(row[1]), float(row[2]))


def delete_totp(t: Tables, subject: str) -> Delete:
    return delete(t.totp).where(t.totp.c.subject == subject)


def insert_totp(t: Tables, subject: str, credential: TotpCredential) -> Insert:
    return insert(t.totp).values(
        subject=subject,
        sealed_secret=credential.sealed_secret,
        confirmed=credential.confirmed,
        created_at=credential.created_at,
    )


# -- recovery codes --------------------------------------------------------------------------


def count_recovery(t: Tables, subject: str) -> Query:
    return _count_recovery(t), {"subject": subject}


@lru_cache(maxsize=64)
def _count_recovery(t: Tables) -> Select[Any]:
    c = t.recovery_codes.c
    return select(func.count()).where(c.subject == _SUBJECT, c.used_at.is_(None))


def delete_recovery(t: Tables, subject: str) -> Delete:
    return delete(t.recovery_codes).where(t.recovery_codes.c.subject == subject)


def insert_recovery(t: Tables, subject: str, digests: Sequence[str], now: float) -> Insert:
    return insert(t.recovery_codes).values(
        [{"subject": subject, "digest": d, "created_at": now, "used_at": None} for d in digests]
    )


def unused_recovery_ids(t: Tables, subject: str, digests: Sequence[str]) -> Select[Any]:
    """Ids of the subject's unused codes matching any digest (one per key in rotation)."""
    c = t.recovery_codes.c
    return (
        select(c.id)
        .where(c.subject == subject, c.digest.in_(list(digests)), c.used_at.is_(None))
        .order_by(c.id)
    )


def use_recovery_row(t: Tables, row_id: int, now: float) -> Update:
    """Mark exactly one row used, only if still unused: rowcount 1 means this caller won."""
    c = t.recovery_codes.c
    return update(t.recovery_codes).where(c.id == row_id, c.used_at.is_(None)).values(used_at=now)


def upsert_totp(t: Tables, subject: str, credential: TotpCredential, dialect: str) -> Any:
    """One ``INSERT ... ON CONFLICT (subject) DO UPDATE`` where the database has it, else None."""
    values = {
        "subject": subject,
        "sealed_secret": credential.sealed_secret,
        "confirmed": credential.confirmed,
        "created_at": credential.created_at,
    }
    return _upsert(t.totp, dialect, values)


def update_totp(t: Tables, subject: str, credential: TotpCredential) -> Update:
    return (
        update(t.totp)
        .where(t.totp.c.subject == subject)
        .values(
            sealed_secret=credential.sealed_secret,
            confirmed=credential.confirmed,
            created_at=credential.created_at,
        )
    )


# -- preferred factor ------------------------------------------------------------------------


def check_factor_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > FACTOR_NAME_LENGTH:
        raise MalformedInput("A factor name is a short non-empty string.")
    return name


def select_preference(t: Tables, subject: str) -> Query:
    return _select_preference(t), {"subject": subject}


@lru_cache(maxsize=64)
def _select_preference(t: Tables) -> Select[Any]:
    return select(t.preferences.c.factor).where(t.preferences.c.subject == _SUBJECT)


def update_preference(t: Tables, subject: str, name: str, now: float) -> Update:
    c = t.preferences.c
    return update(t.preferences).where(c.subject == subject).values(factor=name, updated_at=now)


def upsert_preference(t: Tables, subject: str, name: str, now: float, dialect: str) -> Any:
    """One ``INSERT ... ON CONFLICT (subject) DO UPDATE`` where the database has it, else None."""
    return _upsert(t.preferences, dialect, {"subject": subject, "factor": name, "updated_at": now})


def insert_preference(t: Tables, subject: str, name: str, now: float) -> Insert:
    return insert(t.preferences).values(subject=subject, factor=name, updated_at=now)


def delete_preference(t: Tables, subject: str) -> Delete:
    return delete(t.preferences).where(t.preferences.c.subject == subject)


# -- concurrency -----------------------------------------------------------------------------


def dialect_name(db: Any) -> str:
    """The database's dialect (``postgresql``, ``sqlite``, ...) of a connection or session,
    sync or async."""
    dialect = getattr(db, "dialect", None) or db.get_bind().dialect
    return str(dialect.name)


def _upsert(table: Table, dialect: str, values: dict[str, Any]) -> Any:
    """An insert that updates the row with the same ``subject`` (the primary key) instead of
    failing; atomic on PostgreSQL and SQLite. None on other databases: the caller updates,
    then inserts, and retries when a concurrent insert won."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table).values(values)
        changes = {name: pg.excluded[name] for name in values if name != "subject"}
        return pg.on_conflict_do_update(index_elements=["subject"], set_=changes)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table).values(values)
        changes = {name: lite.excluded[name] for name in values if name != "subject"}
        return lite.on_conflict_do_update(index_elements=["subject"], set_=changes)
    return None


def lock_subject(subject: str, dialect: str) -> Select[Any] | None:
    """A lock on the subject's factors until the transaction ends, where the database needs
    one so that two replacements of a set of rows (recovery codes) run one after the other.

    PostgreSQL (read committed): a ``DELETE`` does not see rows another transaction is
    inserting, so two concurrent replacements would both leave their rows; a transaction
    advisory lock keyed by the subject serialises them. SQLite serialises writers itself.
    """
    if dialect != "postgresql":
        return None
    # Two int4 keys: otpgate's own space (so the app's one-key locks never collide with it),
    # and 32 bits of a digest of the subject (two subjects sharing one only wait for each other).
    digest = hashlib.blake2b(subject.encode(), digest_size=4, person=b"otpgate-lock").digest()
    key = int.from_bytes(digest, "big", signed=True)
    return select(func.pg_advisory_xact_lock(literal(LOCK_SPACE), literal(key)))


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (``CursorResult.rowcount``, for either flavour)."""
    return int(result.rowcount)
