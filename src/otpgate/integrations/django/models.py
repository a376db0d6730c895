"""The persistent second factors of a user: verified phones, an authenticator app, recovery codes,
passkeys.

Nothing here is a secret in the clear: the TOTP secret is sealed (AES-GCM, rotatable keys) by
the core before it reaches the database, recovery codes are kept as keyed digests only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from otpgate.core.address import mask_email
from otpgate.core.phone import mask


class VerifiedPhone(models.Model):
    """A phone number (E.164) the user proved to receive codes on; the oldest is preferred."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_phones",
        verbose_name=_("user"),
    )
    e164 = models.CharField(_("phone number"), max_length=16)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("verified phone")
        verbose_name_plural = _("verified phones")
        constraints = (
            models.UniqueConstraint(fields=("user", "e164"), name="otpgate_unique_user_phone"),
        )

    @property
    def masked(self) -> str:
        """The number as it may be shown: ``+33 ••• ••• 5678``."""
        return mask(self.e164)

    def __str__(self) -> str:
        return self.masked


class VerifiedEmail(models.Model):
    """An email address (normalised: domain lower-case, IDNA) the user proved to receive codes
    at; the oldest is preferred."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_emails",
        verbose_name=_("user"),
    )
    address = models.CharField(_("email address"), max_length=254)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("verified email address")
        verbose_name_plural = _("verified email addresses")
        constraints = (
            models.UniqueConstraint(fields=("user", "address"), name="otpgate_unique_user_email"),
        )

    @property
    def masked(self) -> str:
        """The address as it may be shown: ``a••••@example.com``."""
        return mask_email(self.address)

    def __str__(self) -> str:
        return self.masked


class TotpDevice(models.Model):
    """The user's authenticator app: a sealed secret, active once confirmed with a code."""

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_totp",
        verbose_name=_("user"),
    )
    sealed_secret = models.TextField(_("sealed secret"))
    confirmed = models.BooleanField(_("confirmed"), default=False)
    #: Unix time of the set-up (the core's ``TotpCredential.created_at``, kept exactly).
    created_ts = models.FloatField(_("set up at (Unix time)"))

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return str(_("authenticator app")) if self.confirmed else str(_("pending set-up"))


class RecoveryCode(models.Model):
    """One single-use recovery code, as a keyed digest; ``used_at`` is set when it is used."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_recovery_codes",
        verbose_name=_("user"),
    )
    digest = models.CharField(_("digest"), max_length=128, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return str(_("used recovery code")) if self.used_at else str(_("unused recovery code"))


class PreferredFactor(models.Model):
    """The factor a user chose to be asked for first (``sms``, ``totp``, ...); without a row
    the strongest factor they have is preferred."""

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_preferred_factor",
        verbose_name=_("user"),
    )
    factor = models.CharField(_("factor"), max_length=32)
    updated_at = models.DateTimeField(_("chosen"), auto_now=True)

    class Meta:
        verbose_name = _("preferred factor")
        verbose_name_plural = _("preferred factors")

    def __str__(self) -> str:
        return self.factor


class RememberedDevice(models.Model):
    """A device whose user asked not to be asked again at sign-in ("remember this device").

    Only keyed digests: ``digest`` of the device's secret (the browser keeps it in a signed
    cookie), ``binding`` of the user's factors and session auth hash (a factor or password
    change voids the device). ``label`` is the browser and system, ``place`` the client's
    network with the host part masked (never the address). Times are Unix seconds.
    """

    id = models.BigAutoField(primary_key=True)
    ref = models.CharField(_("reference"), max_length=16, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_devices",
        verbose_name=_("user"),
    )
    digest = models.CharField(_("digest"), max_length=128)
    binding = models.CharField(_("binding"), max_length=128)
    label = models.CharField(_("browser"), max_length=64, blank=True)
    place = models.CharField(_("network"), max_length=64, blank=True)
    created_ts = models.FloatField(_("first seen (Unix time)"))
    last_seen_ts = models.FloatField(_("last seen (Unix time)"))
    expires_ts = models.FloatField(_("expires (Unix time)"))

    class Meta:
        ordering = ("-last_seen_ts", "ref")
        verbose_name = _("remembered device")
        verbose_name_plural = _("remembered devices")

    def __str__(self) -> str:
        return self.label or str(_("remembered device"))


class WebAuthnCredential(models.Model):
    """One passkey of the user: its public key and signature counter (nothing secret); the
    credential id is unique across users (room for a passwordless sign-in)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="otpgate_passkeys",
        verbose_name=_("user"),
    )
    credential_id = models.CharField(_("credential id"), max_length=1366, unique=True)
    public_key = models.BinaryField(_("public key"))
    sign_count = models.PositiveBigIntegerField(_("signature counter"), default=0)
    name = models.CharField(_("name"), max_length=64)
    transports = models.CharField(_("transports"), max_length=128, blank=True, default="")
    backup_eligible = models.BooleanField(_("can be synced"), default=False)
    backup_state = models.BooleanField(_("synced"), default=False)
    #: Unix times, as the core keeps them (``PasskeyCredential``).
    created_ts = models.FloatField(_("added at (Unix time)"))
    last_used_ts = models.FloatField(_("last used at (Unix time)"), null=True, blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")

    def __str__(self) -> str:
        return self.name
