"""Moving users from django-otp / django-two-factor-auth to otpgate, keeping them enrolled.

What ``manage.py otpgate_import_django_otp`` reads, per user:

- ``django_otp.plugins.otp_totp`` ``TOTPDevice`` (confirmed): its hex key becomes the user's
  otpgate authenticator app, sealed like one set up in otpgate. Refused, with the reason, when
  otpgate could not check its codes: other digits or step than ``OTPGATE_TOTP_DIGITS`` /
  ``OTPGATE_TOTP_PERIOD``, a ``t0`` other than 0, a learned ``drift`` beyond
  ``OTPGATE_TOTP_WINDOW``, a key shorter than 160 bits, or ``OTPGATE_TOTP_ALGORITHM`` not SHA1;
  otpgate keeps one app per user (the oldest confirmed device is taken);
- ``django_otp.plugins.otp_static`` ``StaticToken`` (of confirmed devices): each unused token
  becomes an otpgate recovery code, stored as a keyed digest only (under
  :data:`~otpgate.core.codes.IMPORTED_RECOVERY`), still typed as before;
- django-two-factor-auth's ``PhoneDevice`` (confirmed), if installed: the number becomes a
  verified phone (it passes otpgate's phone policy first, or is refused with the reason).

A user who already has that factor in otpgate keeps it (the import skips it), so running it
again changes nothing. Nothing of django-otp's tables is changed or deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction

from otpgate.core.codes import IMPORTED_RECOVERY, clean_imported_code
from otpgate.core.credentials import TotpCredential
from otpgate.core.errors import PhoneRejected
from otpgate.core.phone import mask, parse_phone
from otpgate.core.verifier import Verifier

TOTP_APP, STATIC_APP = "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"
PHONE_MODELS = (("phonenumber", "PhoneDevice"), ("two_factor", "PhoneDevice"))
MIN_KEY_BYTES = 20


@dataclass
class Line:
    """One thing the import did (or would do) for a user: ``kind`` is ``imported``,
    ``skipped`` or ``refused``."""

    user: str
    factor: str
    kind: str
    text: str


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)

    def add(self, user: str, factor: str, kind: str, text: str) -> None:
        self.lines.append(Line(user, factor, kind, text))

    def count(self, kind: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind)


def sources() -> dict[str, Any]:
    """The models installed to import from: ``totp``, ``static``, ``phone``."""
    found: dict[str, Any] = {}
    if apps.is_installed(TOTP_APP):
        found["totp"] = apps.get_model("otp_totp", "TOTPDevice")
    if apps.is_installed(STATIC_APP):
        found["static"] = apps.get_model("otp_static", "StaticDevice")
    for label, name in PHONE_MODELS:
        try:
            found["phone"] = apps.get_model(label, name)
            break
        except LookupError:
            continue
    return found


def users_to_import(models: dict[str, Any], usernames: list[str]) -> Iterator[Any]:
    """Every user with a django-otp device (or just ``usernames``), by primary key."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    ids: set[Any] = set()
    for model in models.values():
        ids.update(model.objects.filter(confirmed=True).values_list("user_id", flat=True))
    users = user_model._default_manager.filter(pk__in=ids)
    if usernames:
        users = users.filter(**{f"{user_model.USERNAME_FIELD}__in": usernames})
    yield from users.order_by("pk").iterator()


def import_user(gate: Verifier, models: dict[str, Any], user: Any, apply: bool) -> Report:
    """Import one user's devices (written only if ``apply``; all or nothing per user)."""
    report = Report()
    with transaction.atomic():
        if "totp" in models:
            _totp(gate, models["totp"], user, apply, report)
        if "static" in models:
            _static(gate, models["static"], user, apply, report)
        if "phone" in models:
            _phones(gate, models["phone"], user, apply, report)
    return report


def totp_refusal(gate: Verifier, device: Any) -> str | None:
    """Why otpgate could not check ``device``'s codes, or None if it can."""
    settings = gate.settings
    if settings.totp_algorithm.upper() != "SHA1":
        return f"django-otp's TOTP is SHA1; OTPGATE_TOTP_ALGORITHM is {settings.totp_algorithm}"
    if device.digits != settings.totp_digits:
        return f"{device.digits} digits; OTPGATE_TOTP_DIGITS is {settings.totp_digits}"
    if device.step != settings.totp_period:
        return f"a {device.step} s step; OTPGATE_TOTP_PERIOD is {settings.totp_period}"
    if device.t0 != 0:
        return f"t0 = {device.t0}; otpgate counts time steps from 0"
    if abs(device.drift) > settings.totp_window:
        return (
            f"its clock drifts {device.drift} steps; OTPGATE_TOTP_WINDOW "
            f"accepts {settings.totp_window}"
        )
    try:
        key = bytes.fromhex(device.key)
    except (TypeError, ValueError):
        return "its key is not hexadecimal"
    if len(key) < MIN_KEY_BYTES:
        return f"its key has {len(key) * 8} bits; otpgate needs at least {MIN_KEY_BYTES * 8}"
    return None


def _totp(gate: Verifier, model: Any, user: Any, apply: bool, report: Report) -> None:
    name, subject = user.get_username(), str(user.pk)
    devices = list(model.objects.filter(user=user, confirmed=True).order_by("pk"))
    if not devices:
        return
    current = gate.credentials.get_totp(subject)
    if current is not None and current.confirmed:
        report.add(name, "totp", "skipped", "already has an authenticator app in otpgate")
        return
    device, others = devices[0], devices[1:]
    refused = totp_refusal(gate, device)
    if refused is not None:
        report.add(name, "totp", "refused", f"TOTP device {device.pk}: {refused}")
        return
    if apply:
        key_hex = bytes.fromhex(device.key).hex()
        created = getattr(device, "created_at", None)
        at = created.timestamp() if created is not None else gate.clock()
        sealed = gate.keyring.seal(key_hex, context=subject)
        gate.credentials.set_totp(subject, TotpCredential(sealed, True, at))
    report.add(name, "totp", "imported", f"authenticator app (TOTP device {device.pk})")
    for other in others:
        report.add(name, "totp", "skipped", f"TOTP device {other.pk}: otpgate keeps one app")


def _static(gate: Verifier, model: Any, user: Any, apply: bool, report: Report) -> None:
    name, subject = user.get_username(), str(user.pk)
    tokens = [
        token.token
        for device in model.objects.filter(user=user, confirmed=True).order_by("pk")
        for token in device.token_set.order_by("pk")
    ]
    if not tokens:
        return
    if gate.credentials.recovery_codes_left(subject) > 0:
        report.add(name, "recovery", "skipped", "already has recovery codes in otpgate")
        return
    cleaned = [clean_imported_code(token) for token in tokens]
    digests = sorted({gate.keyring.digest(IMPORTED_RECOVERY, subject, c) for c in cleaned if c})
    bad = sum(1 for c in cleaned if c is None)
    if bad:
        report.add(
            name,
            "recovery",
            "refused",
            f"{bad} static token(s) not of 8 to 10 letters and digits: give new recovery codes",
        )
    if not digests:
        return
    if apply:
        gate.credentials.replace_recovery_codes(subject, digests)
    report.add(name, "recovery", "imported", f"{len(digests)} recovery code(s)")


def _phones(gate: Verifier, model: Any, user: Any, apply: bool, report: Report) -> None:
    name, subject = user.get_username(), str(user.pk)
    have = set(gate.credentials.phones(subject))
    for device in model.objects.filter(user=user, confirmed=True).order_by("pk"):
        number = device.number
        raw = getattr(number, "as_e164", None) or str(number)
        try:
            e164 = parse_phone(raw, gate.settings).e164
        except PhoneRejected as error:
            report.add(name, "sms", "refused", f"phone device {device.pk}: {error.code}")
            continue
        if e164 in have:
            report.add(name, "sms", "skipped", f"{mask(e164)} is already verified in otpgate")
            continue
        if apply:
            gate.credentials.add_phone(subject, e164)
        have.add(e164)
        report.add(name, "sms", "imported", f"verified phone {mask(e164)}")
