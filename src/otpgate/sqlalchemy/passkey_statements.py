"""The SQL statements of the passkey table, for both repository flavours.

A use is one conditional ``UPDATE``: the new counter is written only if it is above the
stored one (or both are 0, for authenticators that do not count), so two requests racing
with the same counter cannot both pass (``credentials.counter_regressed``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy.sql import Delete, Insert, Select, Update, and_, delete, insert, select, update

from otpgate.core.credentials import PasskeyCredential
from otpgate.core.errors import MalformedInput

from .statements import _SUBJECT, Query
from .tables import CREDENTIAL_ID_LENGTH, PASSKEY_NAME_LENGTH, TRANSPORTS_LENGTH, Tables


def check_credential_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= CREDENTIAL_ID_LENGTH:
        raise MalformedInput("The passkey id is malformed.")
    return value


def check_name(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= PASSKEY_NAME_LENGTH:
        raise MalformedInput("A passkey's name is 1 to 64 characters.")
    return value


def select_passkeys(t: Tables, subject: str) -> Query:
    return _select_passkeys(t), {"subject": subject}


@lru_cache(maxsize=64)
def _select_passkeys(t: Tables) -> Select[Any]:
    c = t.passkeys.c
    return (
        select(
            c.credential_id,
            c.public_key,
            c.sign_count,
            c.name,
            c.created_at,
            c.last_used_at,
            c.transports,
            c.backup_eligible,
            c.backup_state,
        )
        .where(c.subject == _SUBJECT)
        .order_by(c.id)
    )


def passkey_from_row(row: Any) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=str(row[0]),
        public_key=bytes(row[1]),
        sign_count=int(row[2]),
        name=str(row[3]),
        created_at=float(row[4]),
        last_used_at=None if row[5] is None else float(row[5]),
        transports=tuple(part for part in str(row[6]).split(",") if part),
        backup_eligible=bool(row[7]),
        backup_state=bool(row[8]),
    )


def passkey_exists(t: Tables, credential_id: str) -> Select[Any]:
    return select(t.passkeys.c.id).where(t.passkeys.c.credential_id == credential_id)


def insert_passkey(t: Tables, subject: str, key: PasskeyCredential) -> Insert:
    transports = ",".join(key.transports)
    if len(transports) > TRANSPORTS_LENGTH:
        raise MalformedInput("Too many passkey transports.")
    return insert(t.passkeys).values(
        subject=subject,
        credential_id=check_credential_id(key.credential_id),
        public_key=key.public_key,
        sign_count=key.sign_count,
        name=check_name(key.name),
        transports=transports,
        backup_eligible=key.backup_eligible,
        backup_state=key.backup_state,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


def _own(t: Tables, subject: str, credential_id: str) -> Any:
    c = t.passkeys.c
    return and_(c.subject == subject, c.credential_id == check_credential_id(credential_id))


def use_passkey(
    t: Tables, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
) -> Update:
    """Rowcount 1: recorded; 0: no such passkey, or its counter did not go up."""
    c = t.passkeys.c
    counts = c.sign_count == 0 if sign_count == 0 else c.sign_count < sign_count
    return (
        update(t.passkeys)
        .where(_own(t, subject, credential_id), counts)
        .values(sign_count=sign_count, backup_state=backup_state, last_used_at=at)
    )


def rename_passkey(t: Tables, subject: str, credential_id: str, name: str) -> Update:
    return update(t.passkeys).where(_own(t, subject, credential_id)).values(name=check_name(name))


def delete_passkey(t: Tables, subject: str, credential_id: str) -> Delete:
    return delete(t.passkeys).where(_own(t, subject, credential_id))
