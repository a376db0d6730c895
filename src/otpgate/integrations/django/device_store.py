"""Remembered devices on the Django ORM: the device methods of ``OrmCredentials`` and
``AsyncOrmCredentials`` (the core's :class:`~otpgate.DeviceRepository`)."""

from __future__ import annotations

from otpgate.core.devices import DeviceRecord, is_ref

from .models import RememberedDevice


def _record(row: RememberedDevice) -> DeviceRecord:
    return DeviceRecord(
        ref=row.ref,
        subject=str(row.user_id),
        digest=row.digest,
        binding=row.binding,
        label=row.label,
        place=row.place,
        created_at=row.created_ts,
        last_seen=row.last_seen_ts,
        expires_at=row.expires_ts,
    )


def _row(record: DeviceRecord) -> RememberedDevice:
    return RememberedDevice(
        ref=record.ref,
        user_id=record.subject,
        digest=record.digest,
        binding=record.binding,
        label=record.label[:64],
        place=record.place[:64],
        created_ts=record.created_at,
        last_seen_ts=record.last_seen,
        expires_ts=record.expires_at,
    )


class OrmDevices:
    """Sync device methods (mixed into ``OrmCredentials``, which guards them)."""

    def add_device(self, record: DeviceRecord) -> None:
        _row(record).save(force_insert=True)

    def get_device(self, ref: str) -> DeviceRecord | None:
        if not is_ref(ref):
            return None
        row = RememberedDevice.objects.filter(ref=ref).first()
        return None if row is None else _record(row)

    def list_devices(self, subject: str) -> list[DeviceRecord]:
        return [_record(row) for row in RememberedDevice.objects.filter(user_id=subject)]

    def touch_device(self, ref: str, last_seen: float) -> None:
        RememberedDevice.objects.filter(ref=ref).update(last_seen_ts=last_seen)

    def remove_device(self, subject: str, ref: str) -> bool:
        if not is_ref(ref):
            return False
        deleted, _ = RememberedDevice.objects.filter(user_id=subject, ref=ref).delete()
        return bool(deleted > 0)

    def remove_devices(self, subject: str) -> int:
        deleted, _ = RememberedDevice.objects.filter(user_id=subject).delete()
        return int(deleted)


class AsyncOrmDevices:
    """Async device methods (mixed into ``AsyncOrmCredentials``)."""

    async def add_device(self, record: DeviceRecord) -> None:
        await _row(record).asave(force_insert=True)

    async def get_device(self, ref: str) -> DeviceRecord | None:
        if not is_ref(ref):
            return None
        row = await RememberedDevice.objects.filter(ref=ref).afirst()
        return None if row is None else _record(row)

    async def list_devices(self, subject: str) -> list[DeviceRecord]:
        rows = RememberedDevice.objects.filter(user_id=subject)
        return [_record(row) async for row in rows]

    async def touch_device(self, ref: str, last_seen: float) -> None:
        await RememberedDevice.objects.filter(ref=ref).aupdate(last_seen_ts=last_seen)

    async def remove_device(self, subject: str, ref: str) -> bool:
        if not is_ref(ref):
            return False
        deleted, _ = await RememberedDevice.objects.filter(user_id=subject, ref=ref).adelete()
        return bool(deleted > 0)

    async def remove_devices(self, subject: str) -> int:
        deleted, _ = await RememberedDevice.objects.filter(user_id=subject).adelete()
        return int(deleted)
