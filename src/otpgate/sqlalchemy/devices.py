"""Remembered devices in SQL (:class:`~otpgate.DeviceRepository`), for both flavours.

The statements are built here once; ``SQLAlchemyCredentials`` and
``AsyncSQLAlchemyCredentials`` mix in :class:`DeviceMethods` / :class:`AsyncDeviceMethods`,
which differ only in ``await``. Only keyed digests of the device secret are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

from sqlalchemy.sql import Delete, Insert, Select, Update, delete, insert, select, update

from otpgate.core.devices import DeviceRecord, is_ref
from otpgate.core.errors import MalformedInput

from . import statements as q
from .tables import LABEL_LENGTH, PLACE_LENGTH, Tables

_COLUMNS = (
    "ref",
    "subject",
    "digest",
    "binding",
    "label",
    "place",
    "created_at",
    "last_seen",
    "expires_at",
)


def check_ref(ref: object) -> str:
    if not isinstance(ref, str) or not is_ref(ref):
        raise MalformedInput("The device reference is malformed.")
    return ref


def insert_device(t: Tables, record: DeviceRecord) -> Insert:
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["label"] = record.label[:LABEL_LENGTH]
    values["place"] = record.place[:PLACE_LENGTH]
    values["subject"] = q.check_subject(record.subject)
    values["ref"] = check_ref(record.ref)
    return insert(t.devices).values(**values)


def select_device(t: Tables, ref: str) -> Select[Any]:
    return select(*(t.devices.c[n] for n in _COLUMNS)).where(t.devices.c.ref == ref)


def select_devices(t: Tables, subject: str) -> Select[Any]:
    c = t.devices.c
    return (
        select(*(c[n] for n in _COLUMNS))
        .where(c.subject == subject)
        .order_by(c.last_seen.desc(), c.ref)
    )


def touch_device(t: Tables, ref: str, last_seen: float) -> Update:
    return update(t.devices).where(t.devices.c.ref == ref).values(last_seen=last_seen)


def delete_device(t: Tables, subject: str, ref: str) -> Delete:
    return delete(t.devices).where(t.devices.c.ref == ref, t.devices.c.subject == subject)


def delete_devices(t: Tables, subject: str) -> Delete:
    return delete(t.devices).where(t.devices.c.subject == subject)


def record_of(row: Any) -> DeviceRecord | None:
    if row is None:
        return None
    m = row._mapping
    return DeviceRecord(
        ref=str(m["ref"]),
        subject=str(m["subject"]),
        digest=str(m["digest"]),
        binding=str(m["binding"]),
        label=str(m["label"] or ""),
        place=str(m["place"] or ""),
        created_at=float(m["created_at"]),
        last_seen=float(m["last_seen"]),
        expires_at=float(m["expires_at"]),
    )


class DeviceMethods:
    """The device methods of ``SQLAlchemyCredentials``."""

    tables: Tables
    _begin: Callable[[], AbstractContextManager[Any]]

    def add_device(self, record: DeviceRecord) -> None:
        with self._begin() as db:
            db.execute(insert_device(self.tables, record))

    def get_device(self, ref: str) -> DeviceRecord | None:
        if not is_ref(ref):
            return None
        with self._begin() as db:
            return record_of(db.execute(select_device(self.tables, ref)).first())

    def list_devices(self, subject: str) -> list[DeviceRecord]:
        """The subject's devices, most recently seen first."""
        statement = select_devices(self.tables, q.check_subject(subject))
        with self._begin() as db:
            rows = db.execute(statement).all()
        return [r for r in map(record_of, rows) if r is not None]

    def touch_device(self, ref: str, last_seen: float) -> None:
        with self._begin() as db:
            db.execute(touch_device(self.tables, check_ref(ref), last_seen))

    def remove_device(self, subject: str, ref: str) -> bool:
        if not is_ref(ref):
            return False
        with self._begin() as db:
            statement = delete_device(self.tables, q.check_subject(subject), ref)
            return q.rowcount(db.execute(statement)) > 0

    def remove_devices(self, subject: str) -> int:
        with self._begin() as db:
            statement = delete_devices(self.tables, q.check_subject(subject))
            return q.rowcount(db.execute(statement))


class AsyncDeviceMethods:
    """The device methods of ``AsyncSQLAlchemyCredentials``."""

    tables: Tables
    _begin: Callable[[], AbstractAsyncContextManager[Any]]

    async def add_device(self, record: DeviceRecord) -> None:
        async with self._begin() as db:
            await db.execute(insert_device(self.tables, record))

    async def get_device(self, ref: str) -> DeviceRecord | None:
        if not is_ref(ref):
            return None
        async with self._begin() as db:
            return record_of((await db.execute(select_device(self.tables, ref))).first())

    async def list_devices(self, subject: str) -> list[DeviceRecord]:
        """The subject's devices, most recently seen first."""
        statement = select_devices(self.tables, q.check_subject(subject))
        async with self._begin() as db:
            rows = (await db.execute(statement)).all()
        return [r for r in map(record_of, rows) if r is not None]

    async def touch_device(self, ref: str, last_seen: float) -> None:
        async with self._begin() as db:
            await db.execute(touch_device(self.tables, check_ref(ref), last_seen))

    async def remove_device(self, subject: str, ref: str) -> bool:
        if not is_ref(ref):
            return False
        async with self._begin() as db:
            statement = delete_device(self.tables, q.check_subject(subject), ref)
            return q.rowcount(await db.execute(statement)) > 0

    async def remove_devices(self, subject: str) -> int:
        async with self._begin() as db:
            statement = delete_devices(self.tables, q.check_subject(subject))
            return q.rowcount(await db.execute(statement))
