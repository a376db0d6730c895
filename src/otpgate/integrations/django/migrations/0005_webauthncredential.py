"""Passkeys (a new table; existing rows are untouched)."""
# ruff: noqa: RUF012

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otpgate", "0004_emailaddress"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WebAuthnCredential",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "credential_id",
                    models.CharField(max_length=1366, unique=True, verbose_name="credential id"),
                ),
                ("public_key", models.BinaryField(verbose_name="public key")),
                (
                    "sign_count",
                    models.PositiveBigIntegerField(default=0, verbose_name="signature counter"),
                ),
                ("name", models.CharField(max_length=64, verbose_name="name")),
                (
                    "transports",
                    models.CharField(
                        blank=True, default="", max_length=128, verbose_name="transports"
                    ),
                ),
                (
                    "backup_eligible",
                    models.BooleanField(default=False, verbose_name="can be synced"),
                ),
                ("backup_state", models.BooleanField(default=False, verbose_name="synced")),
                ("created_ts", models.FloatField(verbose_name="added at (Unix time)")),
                (
                    "last_used_ts",
                    models.FloatField(
                        blank=True, null=True, verbose_name="last used at (Unix time)"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_passkeys",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "passkey",
                "verbose_name_plural": "passkeys",
                "ordering": ("id",),
            },
        ),
    ]
