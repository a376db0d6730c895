"""The core's credential repository on the Django ORM: ``OrmCredentials`` (sync, for
``Verifier``) and ``AsyncOrmCredentials`` (Django's async ORM methods, for ``AsyncVerifier``).

A subject is ``str(user.pk)``. Database failures become ``StorageUnavailable`` (HTTP 503),
so an outage is never an approval and never a 500 page.

Transactions run on the database the project's routers choose for the models. Concurrent
changes of one user's factors (two requests at once) never fail and never leave two states:
writes of a one-per-user row retry when a concurrent insert won, and a replacement of the
recovery codes locks the user's row (``SELECT ... FOR UPDATE``) so two run one at a time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, DataError, IntegrityError, router, transaction
from django.utils import timezone

from otpgate.core.credentials import TotpCredential
from otpgate.core.errors import MalformedInput, StorageUnavailable

from .compiled import phones_of
from .device_store import AsyncOrmDevices, OrmDevices
from .models import PreferredFactor, RecoveryCode, TotpDevice, VerifiedEmail, VerifiedPhone
from .passkey_credentials import AsyncPasskeyOrm, PasskeyOrm

F = TypeVar("F", bound=Callable[..., Any])

#: Attempts of a write that a concurrent insert of the same one-per-user row can make fail.
ATTEMPTS = 3


def _guarded(method: F) -> F:
    """Turn database failures into ``StorageUnavailable`` and bad subjects into MalformedInput
    (a subject that is no user id, or one the database cannot hold: out of an integer's range
    is ``OverflowError`` on SQLite, ``DataError`` on PostgreSQL)."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except (ValueError, TypeError, OverflowError, ValidationError, DataError):
                raise MalformedInput("The subject is not a user id.") from None
            except DatabaseError as error:
                raise StorageUnavailable() from error

        return cast(F, guarded_async)

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (ValueError, TypeError, OverflowError, ValidationError, DataError):
            raise MalformedInput("The subject is not a user id.") from None
        except DatabaseError as error:
            raise StorageUnavailable() from error

    return cast(F, guarded)


def _factor_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > 32:
        raise MalformedInput("A factor name is a short non-empty string.")
    return name


def _upsert(model: type[TotpDevice] | type[PreferredFactor], subject: str, **values: Any) -> None:
    """Create or update the user's one row of ``model``. ``update_or_create`` locks an existing
    row; when the row is missing and a concurrent request inserts it first (or inserts and
    removes it), ours fails on the unique user: the next attempt sees the committed state."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic(using=router.db_for_write(model)):
                model._default_manager.update_or_create(user_id=subject, defaults=values)
            return
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise


def _credential(row: TotpDevice | None) -> TotpCredential | None:
    if row is None:
        return None
    return TotpCredential(row.sealed_secret, row.confirmed, row.created_ts)


class OrmCredentials(OrmDevices, PasskeyOrm):
    """Factors in the ``otpgate`` tables, for the synchronous ``Verifier``."""

    @_guarded
    def phones(self, subject: str) -> list[str]:
        return phones_of(subject)

    @_guarded
    def add_phone(self, subject: str, e164: str) -> None:
        try:
            with transaction.atomic(using=router.db_for_write(VerifiedPhone)):
                VerifiedPhone.objects.get_or_create(user_id=subject, e164=e164)
        except IntegrityError:  # a concurrent request added it first
            pass

    @_guarded
    def remove_phone(self, subject: str, e164: str) -> bool:
        deleted, _ = VerifiedPhone.objects.filter(user_id=subject, e164=e164).delete()
        return bool(deleted > 0)

    @_guarded
    def emails(self, subject: str) -> list[str]:
        rows = VerifiedEmail.objects.filter(user_id=subject).order_by("id")
        return list(rows.values_list("address", flat=True))

    @_guarded
    def add_email(self, subject: str, address: str) -> None:
        try:
            with transaction.atomic(using=router.db_for_write(VerifiedEmail)):
                VerifiedEmail.objects.get_or_create(user_id=subject, address=address)
        except IntegrityError:  # a concurrent request added it first
            pass

    @_guarded
    def remove_email(self, subject: str, address: str) -> bool:
        deleted, _ = VerifiedEmail.objects.filter(user_id=subject, address=address).delete()
        return bool(deleted > 0)

    @_guarded
    def get_totp(self, subject: str) -> TotpCredential | None:
        return _credential(TotpDevice.objects.filter(user_id=subject).first())

    @_guarded
    def set_totp(self, subject: str, credential: TotpCredential) -> None:
        _upsert(
            TotpDevice,
            subject,
            sealed_secret=credential.sealed_secret,
            confirmed=credential.confirmed,
            created_ts=credential.created_at,
        )

    @_guarded
    def remove_totp(self, subject: str) -> bool:
        deleted, _ = TotpDevice.objects.filter(user_id=subject).delete()
        return bool(deleted > 0)

    @_guarded
    def recovery_codes_left(self, subject: str) -> int:
        return int(RecoveryCode.objects.filter(user_id=subject, used_at__isnull=True).count())

    @_guarded
    def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None:
        db = router.db_for_write(RecoveryCode)
        with transaction.atomic(using=db):
            # One replacement at a time per user: a DELETE does not see the rows a concurrent
            # replacement is inserting (PostgreSQL, read committed), so both sets would stay.
            users = get_user_model()._default_manager.db_manager(db)
            list(users.select_for_update().filter(pk=subject).values_list("pk", flat=True))
            RecoveryCode.objects.filter(user_id=subject).delete()
            RecoveryCode.objects.bulk_create(
                [RecoveryCode(user_id=subject, digest=digest) for digest in digests]
            )

    @_guarded
    def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        unused = RecoveryCode.objects.filter(
            user_id=subject, digest__in=list(digests), used_at__isnull=True
        )
        return bool(unused.exists())

    @_guarded
    def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """``UPDATE ... SET used_at = now WHERE id = ? AND used_at IS NULL``: one winner."""
        found = RecoveryCode.objects.filter(
            user_id=subject, digest__in=list(digests), used_at__isnull=True
        ).values_list("id", flat=True)
        for code_id in list(found[:1]):
            rows = RecoveryCode.objects.filter(id=code_id, used_at__isnull=True).update(
                used_at=timezone.now()
            )
            return bool(rows == 1)
        return False

    @_guarded
    def preferred_factor(self, subject: str) -> str | None:
        row = PreferredFactor.objects.filter(user_id=subject).values_list("factor").first()
        return None if row is None else str(row[0])

    @_guarded
    def set_preferred_factor(self, subject: str, name: str | None) -> None:
        if name is None:
            PreferredFactor.objects.filter(user_id=subject).delete()
            return
        _upsert(PreferredFactor, subject, factor=_factor_name(name))


class AsyncOrmCredentials(AsyncOrmDevices, AsyncPasskeyOrm):
    """Factors in the ``otpgate`` tables, for ``AsyncVerifier``, on Django's async ORM."""

    def __init__(self) -> None:
        self._sync = OrmCredentials()

    @_guarded
    async def phones(self, subject: str) -> list[str]:
        return await sync_to_async(phones_of)(subject)

    async def add_phone(self, subject: str, e164: str) -> None:
        # A transaction on the routed database; Django's transactions are synchronous only.
        await sync_to_async(self._sync.add_phone)(subject, e164)

    @_guarded
    async def remove_phone(self, subject: str, e164: str) -> bool:
        deleted, _ = await VerifiedPhone.objects.filter(user_id=subject, e164=e164).adelete()
        return bool(deleted > 0)

    @_guarded
    async def emails(self, subject: str) -> list[str]:
        rows = VerifiedEmail.objects.filter(user_id=subject).order_by("id")
        return [address async for address in rows.values_list("address", flat=True)]

    async def add_email(self, subject: str, address: str) -> None:
        # A transaction on the routed database; Django's transactions are synchronous only.
        await sync_to_async(self._sync.add_email)(subject, address)

    @_guarded
    async def remove_email(self, subject: str, address: str) -> bool:
        rows = VerifiedEmail.objects.filter(user_id=subject, address=address)
        deleted, _ = await rows.adelete()
        return bool(deleted > 0)

    @_guarded
    async def get_totp(self, subject: str) -> TotpCredential | None:
        return _credential(await TotpDevice.objects.filter(user_id=subject).afirst())

    async def set_totp(self, subject: str, credential: TotpCredential) -> None:
        await sync_to_async(self._sync.set_totp)(subject, credential)

    @_guarded
    async def remove_totp(self, subject: str) -> bool:
        deleted, _ = await TotpDevice.objects.filter(user_id=subject).adelete()
        return bool(deleted > 0)

    @_guarded
    async def recovery_codes_left(self, subject: str) -> int:
        count = await RecoveryCode.objects.filter(user_id=subject, used_at__isnull=True).acount()
        return int(count)

    async def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None:
        # Delete and insert in one transaction; Django's transactions are synchronous only.
        await sync_to_async(self._sync.replace_recovery_codes)(subject, digests)

    @_guarded
    async def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        unused = RecoveryCode.objects.filter(
            user_id=subject, digest__in=list(digests), used_at__isnull=True
        )
        return bool(await unused.aexists())

    @_guarded
    async def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """``UPDATE ... SET used_at = now WHERE id = ? AND used_at IS NULL``: one winner."""
        code_id = await (
            RecoveryCode.objects.filter(
                user_id=subject, digest__in=list(digests), used_at__isnull=True
            )
            .values_list("id", flat=True)
            .afirst()
        )
        if code_id is None:
            return False
        rows = await RecoveryCode.objects.filter(id=code_id, used_at__isnull=True).aupdate(
            used_at=timezone.now()
        )
        return bool(rows == 1)

    @_guarded
    async def preferred_factor(self, subject: str) -> str | None:
        rows = PreferredFactor.objects.filter(user_id=subject).values_list("factor")
        row = await rows.afirst()
        return None if row is None else str(row[0])

    async def set_preferred_factor(self, subject: str, name: str | None) -> None:
        await sync_to_async(self._sync.set_preferred_factor)(subject, name)


_DEVICE_METHODS = (
    "add_device",
    "get_device",
    "list_devices",
    "touch_device",
    "remove_device",
    "remove_devices",
)
for _name in _DEVICE_METHODS:  # database failures: StorageUnavailable, as for the factors
    setattr(OrmCredentials, _name, _guarded(getattr(OrmDevices, _name)))
    setattr(AsyncOrmCredentials, _name, _guarded(getattr(AsyncOrmDevices, _name)))

_PASSKEY_METHODS = ("passkeys", "add_passkey", "use_passkey", "rename_passkey", "remove_passkey")
for _name in _PASSKEY_METHODS:  # the passkey methods, guarded like the others
    setattr(OrmCredentials, _name, _guarded(getattr(PasskeyOrm, _name)))
    setattr(AsyncOrmCredentials, _name, _guarded(getattr(AsyncPasskeyOrm, _name)))
