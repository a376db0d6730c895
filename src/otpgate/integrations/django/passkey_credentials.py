"""Passkeys on the Django ORM: the ``WebAuthnCredential`` half of ``OrmCredentials`` and
``AsyncOrmCredentials`` (mixed into both). A use is one conditional ``UPDATE``: the counter
is written only if it went up (``otpgate.core.credentials.counter_regressed``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from otpgate.core.credentials import PasskeyCredential
from otpgate.core.errors import MalformedInput

from .models import WebAuthnCredential

_FIELDS = (
    "credential_id",
    "public_key",
    "sign_count",
    "name",
    "created_ts",
    "last_used_ts",
    "transports",
    "backup_eligible",
    "backup_state",
)


def _row(values: tuple[Any, ...]) -> PasskeyCredential:
    cid, key, count, name, created, used, transports, eligible, state = values
    return PasskeyCredential(
        credential_id=str(cid),
        public_key=bytes(key),
        sign_count=int(count),
        name=str(name),
        created_at=float(created),
        last_used_at=None if used is None else float(used),
        transports=tuple(part for part in str(transports).split(",") if part),
        backup_eligible=bool(eligible),
        backup_state=bool(state),
    )


def _new(subject: str, key: PasskeyCredential) -> WebAuthnCredential:
    transports = ",".join(key.transports)
    if len(transports) > 128 or not 0 < len(key.name) <= 64:
        raise MalformedInput("The passkey is malformed.")
    return WebAuthnCredential(
        user_id=subject,
        credential_id=key.credential_id,
        public_key=key.public_key,
        sign_count=key.sign_count,
        name=key.name,
        transports=transports,
        backup_eligible=key.backup_eligible,
        backup_state=key.backup_state,
        created_ts=key.created_at,
        last_used_ts=key.last_used_at,
    )


def _counts(sign_count: int) -> Q:
    return Q(sign_count=0) if sign_count == 0 else Q(sign_count__lt=sign_count)


class PasskeyOrm:
    """The passkey methods of ``OrmCredentials`` (guarded there)."""

    def passkeys(self, subject: str) -> list[PasskeyCredential]:
        rows = WebAuthnCredential.objects.filter(user_id=subject).order_by("id")
        return [_row(values) for values in rows.values_list(*_FIELDS)]

    def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool:
        row = _new(subject, credential)
        try:
            with transaction.atomic():
                if WebAuthnCredential.objects.filter(credential_id=row.credential_id).exists():
                    return False
                row.save()
        except IntegrityError:  # a concurrent request registered it first
            return False
        return True

    def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool:
        rows = WebAuthnCredential.objects.filter(
            _counts(sign_count), user_id=subject, credential_id=credential_id
        ).update(sign_count=sign_count, backup_state=backup_state, last_used_ts=at)
        return bool(rows == 1)

    def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool:
        rows = WebAuthnCredential.objects.filter(
            user_id=subject, credential_id=credential_id
        ).update(name=name)
        return bool(rows > 0)

    def remove_passkey(self, subject: str, credential_id: str) -> bool:
        deleted, _ = WebAuthnCredential.objects.filter(
            user_id=subject, credential_id=credential_id
        ).delete()
        return bool(deleted > 0)


class AsyncPasskeyOrm:
    """The passkey methods of ``AsyncOrmCredentials`` (guarded there)."""

    async def passkeys(self, subject: str) -> list[PasskeyCredential]:
        rows = WebAuthnCredential.objects.filter(user_id=subject).order_by("id")
        return [_row(values) async for values in rows.values_list(*_FIELDS)]

    async def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool:
        row = _new(subject, credential)
        if await WebAuthnCredential.objects.filter(credential_id=row.credential_id).aexists():
            return False
        try:
            await row.asave()
        except IntegrityError:  # a concurrent request registered it first
            return False
        return True

    async def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool:
        rows = await WebAuthnCredential.objects.filter(
            _counts(sign_count), user_id=subject, credential_id=credential_id
        ).aupdate(sign_count=sign_count, backup_state=backup_state, last_used_ts=at)
        return bool(rows == 1)

    async def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool:
        rows = await WebAuthnCredential.objects.filter(
            user_id=subject, credential_id=credential_id
        ).aupdate(name=name)
        return bool(rows > 0)

    async def remove_passkey(self, subject: str, credential_id: str) -> bool:
        deleted, _ = await WebAuthnCredential.objects.filter(
            user_id=subject, credential_id=credential_id
        ).adelete()
        return bool(deleted > 0)
