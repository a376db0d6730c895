"""``gate.devices``: remember, recognise, list and revoke devices (sync and async).

The decisions are in :mod:`otpgate.core.devices`; these classes only read and write the
credentials database (which must offer :class:`~otpgate.core.devices.DeviceRepository`:
``MemoryCredentials``, otpgate's SQLAlchemy repositories and Django's ORM one do).
Events: ``device_remembered``, ``device_used``, ``device_revoked`` (with the reason and how
many); no device token, secret or handle is ever in an event, a log or a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import devices as d
from .errors import ConfigurationError, MalformedInput
from .events import EventName

if TYPE_CHECKING:
    from .aio import AsyncVerifier
    from .verifier import Verifier

_DAY = 86400


class _Base:
    """What both services share: settings, keys and the records they build."""

    _gate: Any

    @property
    def enabled(self) -> bool:
        """``remember_device`` is on and the credentials database can keep devices."""
        return bool(self._gate.settings.remember_device) and self._supported

    @property
    def days(self) -> int:
        """How long a remembered device skips the second step (``remember_device_days``)."""
        return int(self._gate.settings.remember_device_days)

    @property
    def _supported(self) -> bool:
        return callable(getattr(self._gate.credentials, "add_device", None))

    def _require(self) -> None:
        if not self.enabled:
            raise ConfigurationError(
                "remember_device",
                "remembering devices is off (or the credentials database cannot keep them)",
            )

    def _binding(self, subject: str, fingerprint: str, stamp: str) -> str:
        return str(self._gate.keyring.digest("device-binding", subject, fingerprint, stamp))

    def _bindings(self, subject: str, fingerprint: str, stamp: str) -> list[str]:
        return list(self._gate.keyring.digests("device-binding", subject, fingerprint, stamp))

    def _record(
        self, subject: str, fingerprint: str, stamp: str, user_agent: object, client_ip: object
    ) -> tuple[str, d.DeviceRecord]:
        token, ref, secret = d.new_token()
        now = float(self._gate.clock())
        record = d.DeviceRecord(
            ref=ref,
            subject=subject,
            digest=self._gate.keyring.digest("device", ref, secret),
            binding=self._binding(subject, fingerprint, stamp),
            label=d.device_label(user_agent),
            place=d.approximate_place(client_ip),
            created_at=now,
            last_seen=now,
            expires_at=now + self.days * _DAY,
        )
        return token, record

    @staticmethod
    def _stamp(stamp: object) -> str:
        if not isinstance(stamp, str) or len(stamp) > 1024:
            raise MalformedInput("The credential stamp must be a string of at most 1024 chars.")
        return stamp

    @staticmethod
    def _ref(ref: object) -> str | None:
        return ref if isinstance(ref, str) and d.is_ref(ref) else None

    def _emit(self, name: EventName, subject: str, **detail: Any) -> None:
        self._gate._emit(name, subject, factor=d.REMEMBERED, purpose="login", detail=detail)


class RememberedDevices(_Base):
    """``Verifier.devices``."""

    def __init__(self, gate: Verifier) -> None:
        self._gate = gate

    def remember(
        self,
        subject: str,
        *,
        stamp: str = "",
        user_agent: str | None = None,
        client_ip: str | None = None,
    ) -> str:
        """Remember this device for ``remember_device_days``; returns the token to give it
        (a cookie, a header). Call only right after a passed sign-in second step.
        ``stamp``: what changes when the user's password does (voids the device)."""
        self._require()
        subject, stamp = self._gate._subject(subject), self._stamp(stamp)
        fingerprint = self._gate.factors(subject).fingerprint
        token, record = self._record(subject, fingerprint, stamp, user_agent, client_ip)
        repo = self._gate.credentials
        known = repo.list_devices(subject)
        for old in known[d.MAX_DEVICES - 1 :]:
            repo.remove_device(subject, old.ref)
        repo.add_device(record)
        self._emit(EventName.DEVICE_REMEMBERED, subject, label=record.label)
        return token

    def check(
        self, token: object, subject: str, *, purpose: str = "login", stamp: str = ""
    ) -> bool:
        """True if ``token`` names a remembered device of ``subject`` that may skip the
        second step of ``purpose`` (only ``login``) now. Never raises for a bad token."""
        parsed = d.parse_token(token)
        if parsed is None or purpose != "login" or not self.enabled:
            return False
        subject, stamp = self._gate._subject(subject), self._stamp(stamp)
        ref, secret = parsed
        repo = self._gate.credentials
        record = repo.get_device(ref)
        if record is None or record.subject != subject:
            return False
        now = float(self._gate.clock())
        bindings = self._bindings(subject, self._gate.factors(subject).fingerprint, stamp)
        digests = self._gate.keyring.digests("device", ref, secret)
        if not d.skips_second_step(
            record, subject=subject, purpose=purpose, digests=digests, bindings=bindings, now=now
        ):
            if d.is_void(record, bindings, now) and repo.remove_device(subject, ref):
                self._emit(EventName.DEVICE_REVOKED, subject, reason="void", count=1)
            return False
        if d.due_for_touch(record, now):
            repo.touch_device(ref, now)
        self._emit(EventName.DEVICE_USED, subject, label=record.label)
        return True

    def list(self, subject: str) -> list[d.DeviceView]:
        """The subject's remembered devices, most recently seen first (expired ones hidden)."""
        if not self._supported:
            return []
        now = float(self._gate.clock())
        records = self._gate.credentials.list_devices(self._gate._subject(subject))
        return [d.view(r) for r in records if now < r.expires_at]

    def revoke(self, subject: str, ref: object) -> bool:
        """Forget one device (by its public ``ref``); True if it was the subject's."""
        subject, clean = self._gate._subject(subject), self._ref(ref)
        if clean is None or not self._supported:
            return False
        removed = bool(self._gate.credentials.remove_device(subject, clean))
        if removed:
            self._emit(EventName.DEVICE_REVOKED, subject, reason="revoked", count=1)
        return removed

    def revoke_all(self, subject: str, *, reason: str = "revoked") -> int:
        """Forget every device of ``subject`` (sign out everywhere, password change)."""
        subject = self._gate._subject(subject)
        if not self._supported:
            return 0
        count = int(self._gate.credentials.remove_devices(subject))
        if count:
            self._emit(EventName.DEVICE_REVOKED, subject, reason=reason, count=count)
        return count


class AsyncRememberedDevices(_Base):
    """``AsyncVerifier.devices``: :class:`RememberedDevices` with ``await``."""

    def __init__(self, gate: AsyncVerifier) -> None:
        self._gate = gate

    async def remember(
        self,
        subject: str,
        *,
        stamp: str = "",
        user_agent: str | None = None,
        client_ip: str | None = None,
    ) -> str:
        """See :meth:`RememberedDevices.remember`."""
        self._require()
        subject, stamp = self._gate._subject(subject), self._stamp(stamp)
        fingerprint = (await self._gate.factors(subject)).fingerprint
        token, record = self._record(subject, fingerprint, stamp, user_agent, client_ip)
        repo = self._gate.credentials
        known = await repo.list_devices(subject)
        for old in known[d.MAX_DEVICES - 1 :]:
            await repo.remove_device(subject, old.ref)
        await repo.add_device(record)
        self._emit(EventName.DEVICE_REMEMBERED, subject, label=record.label)
        return token

    async def check(
        self, token: object, subject: str, *, purpose: str = "login", stamp: str = ""
    ) -> bool:
        """See :meth:`RememberedDevices.check`."""
        parsed = d.parse_token(token)
        if parsed is None or purpose != "login" or not self.enabled:
            return False
        subject, stamp = self._gate._subject(subject), self._stamp(stamp)
        ref, secret = parsed
        repo = self._gate.credentials
        record = await repo.get_device(ref)
        if record is None or record.subject != subject:
            return False
        now = float(self._gate.clock())
        fingerprint = (await self._gate.factors(subject)).fingerprint
        bindings = self._bindings(subject, fingerprint, stamp)
        digests = self._gate.keyring.digests("device", ref, secret)
        if not d.skips_second_step(
            record, subject=subject, purpose=purpose, digests=digests, bindings=bindings, now=now
        ):
            if d.is_void(record, bindings, now) and await repo.remove_device(subject, ref):
                self._emit(EventName.DEVICE_REVOKED, subject, reason="void", count=1)
            return False
        if d.due_for_touch(record, now):
            await repo.touch_device(ref, now)
        self._emit(EventName.DEVICE_USED, subject, label=record.label)
        return True

    async def list(self, subject: str) -> list[d.DeviceView]:
        """See :meth:`RememberedDevices.list`."""
        if not self._supported:
            return []
        now = float(self._gate.clock())
        records = await self._gate.credentials.list_devices(self._gate._subject(subject))
        return [d.view(r) for r in records if now < r.expires_at]

    async def revoke(self, subject: str, ref: object) -> bool:
        """See :meth:`RememberedDevices.revoke`."""
        subject, clean = self._gate._subject(subject), self._ref(ref)
        if clean is None or not self._supported:
            return False
        removed = bool(await self._gate.credentials.remove_device(subject, clean))
        if removed:
            self._emit(EventName.DEVICE_REVOKED, subject, reason="revoked", count=1)
        return removed

    async def revoke_all(self, subject: str, *, reason: str = "revoked") -> int:
        """See :meth:`RememberedDevices.revoke_all`."""
        subject = self._gate._subject(subject)
        if not self._supported:
            return 0
        count = int(await self._gate.credentials.remove_devices(subject))
        if count:
            self._emit(EventName.DEVICE_REVOKED, subject, reason=reason, count=count)
        return count
