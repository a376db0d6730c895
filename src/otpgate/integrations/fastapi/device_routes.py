"""The API's remembered-device routes ("don't ask again on this device").

``POST /verify`` with ``purpose: login`` and ``remember_device: true`` answers a
``device_token``; at the next sign-in the client sends it as the ``OTP-Device`` header of
``POST /device-check``, which marks this token/session as having passed the sign-in second
step (never step-up: ``require_second_factor`` and transactions still ask for a code).
``GET /devices`` lists the subject's devices, ``DELETE /devices/{ref}`` and
``DELETE /devices/all`` revoke one or all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import BaseModel, Field

from otpgate.core.devices import DeviceView

from .guards import guard_factors
from .models import _utc
from .problems import problem_responses

if TYPE_CHECKING:
    from .gate import OtpGate

#: The request header carrying a remembered device's token.
DEVICE_HEADER = "OTP-Device"


class DeviceOut(BaseModel):
    """One remembered device (what it is, roughly where, when); never its token."""

    ref: str = Field(description="The device's handle, to revoke it.")
    label: str = Field(examples=["Firefox on Linux"], description="Browser and system.")
    place: str = Field(
        examples=["203.0.113.0/24"], description="The client's network, host part masked."
    )
    first_seen: datetime
    last_seen: datetime
    expires_at: datetime

    @classmethod
    def of(cls, device: DeviceView) -> DeviceOut:
        return cls(
            ref=device.ref,
            label=device.label,
            place=device.place,
            first_seen=_utc(device.created_at),
            last_seen=_utc(device.last_seen),
            expires_at=_utc(device.expires_at),
        )


class DevicesOut(BaseModel):
    """The subject's remembered devices, most recently seen first."""

    devices: list[DeviceOut]


class DeviceCheckOut(BaseModel):
    """``remembered``: the device skipped the sign-in second step for this token/session."""

    remembered: bool


def add_device_routes(router: APIRouter, gate: OtpGate) -> None:
    """Add the ``/devices`` routes to ``router``."""
    subject_dep = Depends(gate.current_subject)
    session_dep = Depends(gate.session_key)
    device_header = Header(
        None,
        alias=DEVICE_HEADER,
        max_length=128,
        description="The `device_token` a `POST /verify` with `remember_device` answered.",
    )

    @router.post(
        "/device-check",
        response_model=DeviceCheckOut,
        summary="Skip the sign-in second step on a remembered device (OTP-Device header)",
        responses=problem_responses(401, 503),
    )
    async def check_device(
        otp_device: str | None = device_header,
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> DeviceCheckOut:
        if not await gate.verifier.devices.check(otp_device, subject, purpose="login"):
            return DeviceCheckOut(remembered=False)
        await gate.remembered(session_key, subject)
        return DeviceCheckOut(remembered=True)

    @router.get(
        "/devices",
        response_model=DevicesOut,
        summary="List the subject's remembered devices",
        responses=problem_responses(401, 503),
    )
    async def list_devices(
        subject: str = subject_dep, session_key: str = session_dep
    ) -> DevicesOut:
        await guard_factors(gate, subject, session_key, "view")
        devices = await gate.verifier.devices.list(subject)
        return DevicesOut(devices=[DeviceOut.of(d) for d in devices])

    @router.delete(
        "/devices/all",
        status_code=204,
        response_class=Response,
        summary="Revoke every remembered device of the subject",
        responses=problem_responses(401, 503),
    )
    async def revoke_devices(
        subject: str = subject_dep, session_key: str = session_dep
    ) -> Response:
        await guard_factors(gate, subject, session_key, "view")
        await gate.verifier.devices.revoke_all(subject)
        return Response(status_code=204)

    @router.delete(
        "/devices/{ref}",
        status_code=204,
        response_class=Response,
        summary="Revoke one remembered device (204 also when it is gone already)",
        responses=problem_responses(401, 503),
    )
    async def revoke_device(
        ref: str = Path(pattern=r"^[0-9a-f]{16}$", description="The device's `ref`."),
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> Response:
        await guard_factors(gate, subject, session_key, "view")
        await gate.verifier.devices.revoke(subject, ref)
        return Response(status_code=204)
